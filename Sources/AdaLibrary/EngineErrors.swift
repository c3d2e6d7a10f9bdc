import AdaEval
import AdaLang
import AdaModel
import AdaQuant
import Foundation

/// Runs engine work, turning the engine's errors into errors pointing at the argument they
/// concern: the error's origin names a kind of input (bits, group, calibration, …), and the
/// first parameter of the running builtin that gives that input takes the caret. Errors
/// whose origin the builtin has no parameter for point at `argument`.
func engine<T>(_ a: Arguments, _ argument: String, _ body: () throws -> T) throws -> T {
    do { return try body() } catch let e as QuantError {
        throw a.error(parameter(for: e.origin.map(quantCandidates) ?? [], in: a, else: argument), e.message,
                      notes: e.origin == .hessian ? ["a larger damp= or more calibration windows makes the Hessian better conditioned"] : [])
    } catch let e as EvalError {
        throw a.error(parameter(for: e.origin.map(evalCandidates) ?? [], in: a, else: argument), e.message)
    } catch let e as ModelFileError {
        throw a.error(argument, e.description)
    }
}

/// The parameters that can give the input a quantization error concerns, best first.
func quantCandidates(_ o: QuantError.Origin) -> [String] {
    switch o {
    case .bits: return ["bits"]
    case .group: return ["group"]
    case .dim: return ["dim"]
    case .grid: return ["grid"]
    case .tensor: return ["tensor", "value", "layer", "model"]
    case .hessian: return ["damp", "calib", "data"]
    case .calibration: return ["calib", "data"]
    case .layer: return ["layer", "model"]
    case .file: return ["path", "file", "model"]
    case .options: return ["dim", "criterion", "axis", "model"]
    }
}

/// The parameters that can give the input an evaluation error concerns, best first.
func evalCandidates(_ o: EvalError.Origin) -> [String] {
    switch o {
    case .windows: return ["windows", "data"]
    case .ctx: return ["ctx", "data"]
    case .text: return ["text", "data"]
    case .file: return ["path", "file", "text"]
    case .data: return ["data", "calib", "text"]
    case .task: return ["on"]
    case .limit: return ["limit"]
    case .request: return ["model"]
    case .model: return ["reference", "model"]
    case .prompt: return ["prompt"]
    case .tokens: return ["tokens"]
    case .temperature: return ["temperature"]
    case .topK: return ["top_k"]
    case .topP: return ["top_p"]
    }
}

/// The first candidate that is a parameter of the running builtin, else `fallback`.
func parameter(for candidates: [String], in a: Arguments, else fallback: String) -> String {
    let names = Set(a.builtin.params.map(\.name))
    return candidates.first { names.contains($0) } ?? fallback
}
