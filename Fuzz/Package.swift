// swift-tools-version:6.1
// Fuzz targets, apart from the main package so that `swift build` stays fast. Run with scripts/fuzz.
import PackageDescription

let package = Package(
    name: "SluiceFuzz",
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        .executableTarget(
            name: "FuzzKafkaRequest",
            dependencies: [
                .product(name: "SluiceKafkaProtocol", package: "main"),
                .product(name: "SluiceCore", package: "main"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        )
    ]
)
