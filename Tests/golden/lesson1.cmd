# docs/examples/lesson-1-grid.ada, the whole output (ASCII plots): the grid, the scale and
# zero point, the outlier effect, the reference grid's clamped zero point, a real group.
$ADA run --ascii "$ADA_REPO/docs/examples/lesson-1-grid.ada"
echo "[exit $?]"
