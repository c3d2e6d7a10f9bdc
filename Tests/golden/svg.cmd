# SVG files from `plot … to=`: well-formed XML, a title, axis labels, ticks, and as many
# bars, points, series and panels as the data.
$ADA run svg.ada
echo "[exit $?]"
python3 - <<'PY'
import xml.dom.minidom
def load(f):
    d = xml.dom.minidom.parse(f)
    assert d.documentElement.tagName == "svg", f
    return d
def by_class(d, tag, cls):
    return [e for e in d.getElementsByTagName(tag) if cls in e.getAttribute("class").split()]
def texts(d, cls):
    return [e.firstChild.data for e in by_class(d, "text", cls) if e.firstChild]
for f in ["line.svg", "hist.svg", "bar.svg", "heat.svg", "profile.svg"]:
    d = load(f)
    title = d.getElementsByTagName("title")[0].firstChild.data
    points = sum(len(p.getAttribute("points").split()) for p in by_class(d, "polyline", "series"))
    print(f, "| well-formed | title:", title,
          "| xlabel:", texts(d, "xlabel"), "| ylabel:", texts(d, "ylabel"),
          "| ticks:", len(texts(d, "tick")) > 2,
          "| bars:", len(by_class(d, "rect", "bar")), "| levels:", len(by_class(d, "line", "level")),
          "| polyline points:", points, "| markers:", len(by_class(d, "circle", "point")),
          "| series:", len(by_class(d, "g", "series-group")), "| panels:", len(by_class(d, "g", "panel")))
PY
