import AdaLang
import AdaTestSupport
import Foundation

/// Parses, returning the syntax error if any.
func syntaxError(_ source: String) -> AdaError? {
    do { _ = try Parser.parse(SourceFile(name: "t.ada", text: source)); return nil } catch let e as AdaError { return e } catch { return nil }
}
