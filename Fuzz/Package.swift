// swift-tools-version:6.1
// Fuzz targets, apart from the main package so that `swift build` stays fast. Run with scripts/fuzz.
import PackageDescription

let package = Package(
    name: "SluiceFuzz",
    dependencies: [
        // Through a link with a fixed name: a path dependency is known by its folder name, which a clone may change.
        .package(path: "sluice"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        .executableTarget(
            name: "FuzzKafkaRequest",
            dependencies: [
                .product(name: "SluiceKafkaProtocol", package: "sluice"),
                .product(name: "SluiceCore", package: "sluice"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        )
    ]
)
