// AdaShell: see docs/architecture.md.
@preconcurrency import _CEditline
import AdaScript
