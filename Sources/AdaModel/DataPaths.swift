import Foundation

/// Where set-up puts the fetched model and texts, and the short names that refer to them.
public enum DataPaths {
    /// The data root: `$ADA_DATA`, else the `datasets` folder of the checkout that holds the
    /// working directory or the executable.
    public static var root: String {
        if let env = ProcessInfo.processInfo.environment["ADA_DATA"], !env.isEmpty { return env }
        let fm = FileManager.default
        var starts = [fm.currentDirectoryPath]
        let exe = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
        starts.append(exe.deletingLastPathComponent().path)
        for s in starts {
            var dir = URL(fileURLWithPath: s)
            for _ in 0..<8 {
                let cand = dir.appendingPathComponent("datasets/checksums.sha256")
                if fm.fileExists(atPath: cand.path) { return dir.appendingPathComponent("datasets").path }
                dir.deleteLastPathComponent()
            }
        }
        return fm.currentDirectoryPath + "/datasets"
    }

    /// Built-in model names.
    public static let models: [String: String] = [
        "smollm2": "models/SmolLM2-135M-Instruct.Q4_1.gguf",
        "gemma3": "models/gemma-3-270m-q4_k_m.gguf",
    ]

    /// Built-in text names (`austen:NAME`); short aliases for the two used most.
    public static let texts: [String: String] = [
        "emma": "text/emma.txt", "pride": "text/prideprejudice.txt", "prideprejudice": "text/prideprejudice.txt",
        "persuasion": "text/persuasion.txt", "mansfieldpark": "text/mansfieldpark.txt",
        "northangerabbey": "text/northangerabbey.txt", "sensesensibility": "text/sensesensibility.txt",
    ]

    /// Resolves a model name (`smollm2`) or a path.
    public static func model(_ name: String) -> String {
        if let rel = models[name] { return root + "/" + rel }
        return name
    }

    /// Resolves `austen:NAME` or a path to a text file's path.
    public static func text(_ name: String) throws -> String {
        if name.hasPrefix("austen:") {
            let key = String(name.dropFirst(7))
            guard let rel = texts[key] else {
                throw ModelFileError(file: name, field: "", "unknown text; known: " + texts.keys.sorted().map { "austen:" + $0 }.joined(separator: ", "))
            }
            return root + "/" + rel
        }
        return name
    }

    /// Reads a text by name or path.
    public static func readText(_ name: String) throws -> String {
        let path = try text(name)
        guard let d = FileManager.default.contents(atPath: path) else {
            throw ModelFileError(file: path, field: "", "cannot read text (run scripts/setup to fetch the data)")
        }
        return String(decoding: d, as: UTF8.self)
    }
}
