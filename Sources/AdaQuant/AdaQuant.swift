// AdaQuant: see docs/architecture.md.
import AdaModel
