// AdaScript: see docs/architecture.md.
import AdaEval
