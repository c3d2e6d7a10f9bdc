# A replacement of the wrong shape is an error under the argument; nothing changes.
m = load
replace m "blk.3.attn_v" (zeros [4, 4])
