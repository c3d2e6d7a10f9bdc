// ada: an interactive shell for low-bit weight quantization of LLMs. Everything lives in
// the targets below (docs/architecture.md); this executable only hands over the command
// line and exits with its status.
import AdaCommands
import Foundation

exit(AdaCLI.main(Array(CommandLine.arguments.dropFirst())))
