# A session: statements that succeed are recorded, and save writes them as a script that
# replays it (see session.cmd, which runs this, shows the file and replays it).
bits = 3
label = "b" + str(bits)
for b in [2, 3] { print "bits", b }
fn double(v) {
  return v * 2
}
double bits
{bits: bits, label: label}
help round
history
save "saved.ada"
