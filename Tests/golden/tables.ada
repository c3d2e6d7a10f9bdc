# Tables you can query: filter, group, join; and files for Python: CSV and .npy.
t = table [{layer: "blk.0.q", kind: "q", dim: "ic", mse: 0.5},
           {layer: "blk.0.k", kind: "k", dim: "oc", mse: 1.5},
           {layer: "blk.1.q", kind: "q", dim: "oc", mse: 2},
           {layer: "blk.1.k", kind: "k", dim: "ic", mse: none},
           {layer: "blk.2.q", kind: "q", dim: "ic", mse: 4}]

# filter: COLUMN=VALUE, a record, or a fn that keeps a row
filter t dim="ic"
filter t kind="q" dim=oc
filter(t, {kind: "k"})
fn worse(r) { return r.mse != none and r.mse > 1 }
filter t worse

# group: first-appearance order; none cells are skipped
group t by="kind" mean="mse"
group t by=["kind", "dim"] count=true mean="mse" sum="mse" min="mse" max="mse"
group t by="dim"

# join: inner by default, how=left keeps every row of the first table
sizes = table [{layer: "blk.0.q", params: 64, mse: 0.25}, {layer: "blk.1.q", params: 64, mse: 0.75}]
join t sizes on="layer"
join t sizes on="layer" how=left
names = table [{module: "blk.2.q", bits: 3}, {module: "blk.0.k", bits: 4}]
join t names on="layer" right_on="module"

# CSV: written so that it reads back as the same table
odd = table [{name: "a,b", note: "say \"hi\"", x: 1 / 3}, {name: "3", note: "", x: none}]
save_csv odd "odd.csv"
back = load_csv "odd.csv"
back
print back["name"], back["note"], (back["x"][0] == 1 / 3)

# .npy: tensors for numpy
w = tensor [[1, -2.5, 3], [0.125, 5, 6]]
save_npy w "w.npy"
v = load_npy "w.npy"
v
print (v == w)
