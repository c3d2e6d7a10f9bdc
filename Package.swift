// swift-tools-version:6.0
import PackageDescription

// Numeric loops are compiled for AVX2/FMA (every x86-64 CPU since 2013; the project's
// machines are AVX-512 Zen 5). Without it Swift targets baseline SSE2 and libm calls
// (floor, round) stay out of line.
let fast: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "haswell"], .when(platforms: [.linux]))]

let package = Package(
    name: "ada",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "ada", targets: ["ada"]),
        .library(name: "AdaTensor", targets: ["AdaTensor"]),
        .library(name: "AdaModel", targets: ["AdaModel"]),
        .library(name: "AdaEval", targets: ["AdaEval"]),
        .library(name: "AdaLang", targets: ["AdaLang"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // C shims over system libraries (apt providers name the Debian packages).
        .systemLibrary(
            name: "_CBLAS", path: "Sources/_CBLAS",
            providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]),
        .systemLibrary(
            name: "_CEditline", path: "Sources/_CEditline",
            providers: [.apt(["libedit-dev"])]),

        // Hand-written vector kernels (exp, softmax, SiLU), compiled so reductions vectorize.
        .target(
            name: "_CKernels", path: "Sources/_CKernels",
            cSettings: [.unsafeFlags(["-O3", "-march=haswell", "-fno-math-errno", "-fassociative-math",
                                      "-fno-signed-zeros", "-fno-trapping-math", "-ffp-contract=fast"])]),

        .target(name: "AdaTensor", dependencies: ["_CBLAS", "_CKernels"], swiftSettings: fast),
        .target(name: "AdaModel", dependencies: ["AdaTensor"], swiftSettings: fast),
        .target(name: "AdaQuant", dependencies: ["_CKernels", "AdaTensor", "AdaModel"], swiftSettings: fast),
        .target(name: "AdaEval", dependencies: ["AdaTensor", "AdaModel", "AdaQuant"], swiftSettings: fast),
        // The language core: syntax, checker, interpreter, values, the builtin registry. No
        // engine imports; it reaches its host (output, rendering, notebooks) through
        // `InterpreterHost`.
        .target(name: "AdaLang"),
        // The builtins, one folder per feature, and the engine values they expose.
        .target(name: "AdaLibrary", dependencies: ["AdaLang", "AdaTensor", "AdaModel", "AdaQuant", "AdaEval"]),
        // Values to text, Markdown and SVG: tables, plots, notebooks, error messages.
        .target(name: "AdaRender", dependencies: ["AdaLang", "AdaLibrary", "AdaModel", "AdaTensor"]),
        // The terminal: REPL, completion, history, progress bars, the terminal host.
        .target(name: "AdaShell", dependencies: ["AdaLang", "AdaLibrary", "AdaRender", "_CEditline"]),
        // The command line as a library: run, check, ppl, help, bench.
        .target(
            name: "AdaCommands",
            dependencies: [
                "AdaShell", "AdaRender", "AdaLibrary", "AdaLang", "AdaEval", "AdaQuant", "AdaModel", "AdaTensor",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .executableTarget(name: "ada", dependencies: ["AdaCommands"]),

        // Shared test fixtures: the tests' seeded generator, temporary folders, big stacks,
        // tolerance asserts, the GPT-2 byte table and a tiny LLaMA in GGUF and HF form.
        .target(name: "AdaTestSupport", dependencies: ["AdaModel", "AdaTensor"], path: "Tests/AdaTestSupport"),

        .testTarget(name: "AdaTensorTests", dependencies: ["AdaTensor"]),
        .testTarget(name: "AdaModelTests", dependencies: ["AdaTestSupport", "AdaModel", "AdaTensor"]),
        .testTarget(name: "AdaQuantTests", dependencies: ["AdaTestSupport", "AdaQuant", "AdaModel", "AdaTensor"]),
        .testTarget(name: "AdaEvalTests", dependencies: ["AdaTestSupport", "AdaEval", "AdaQuant", "AdaModel", "AdaTensor"]),
        .testTarget(name: "AdaLangTests", dependencies: ["AdaTestSupport", "AdaLang"]),
        .testTarget(name: "AdaLibraryTests", dependencies: ["AdaTestSupport", "AdaLibrary", "AdaRender", "AdaLang", "AdaModel", "AdaTensor", "AdaQuant", "AdaEval"]),
        .testTarget(name: "AdaShellTests", dependencies: ["AdaShell", "AdaRender", "AdaLibrary", "AdaLang"]),
        .testTarget(name: "AdaCommandsTests", dependencies: ["AdaTestSupport", "AdaCommands", "AdaShell", "AdaLang", "AdaModel", "AdaEval"]),
    ],
    swiftLanguageModes: [.v6]
)
