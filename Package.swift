// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "ada",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "ada", targets: ["ada"]),
        .library(name: "AdaTensor", targets: ["AdaTensor"]),
        .library(name: "AdaModel", targets: ["AdaModel"]),
        .library(name: "AdaEval", targets: ["AdaEval"]),
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

        .target(name: "AdaTensor", dependencies: ["_CBLAS"]),
        .target(name: "AdaModel", dependencies: ["AdaTensor"]),
        .target(name: "AdaQuant", dependencies: ["AdaTensor", "AdaModel"]),
        .target(name: "AdaEval", dependencies: ["AdaTensor", "AdaModel", "AdaQuant"]),
        .target(name: "AdaScript", dependencies: ["AdaTensor", "AdaModel", "AdaQuant", "AdaEval"]),
        .target(name: "AdaShell", dependencies: ["AdaScript", "_CEditline"]),
        .executableTarget(
            name: "ada",
            dependencies: [
                "AdaShell", "AdaEval", "AdaModel", "AdaTensor",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        .testTarget(name: "AdaTensorTests", dependencies: ["AdaTensor"]),
        .testTarget(name: "AdaModelTests", dependencies: ["AdaModel", "AdaTensor"]),
        .testTarget(name: "AdaEvalTests", dependencies: ["AdaEval", "AdaModel", "AdaTensor"]),
    ],
    swiftLanguageModes: [.v6]
)
