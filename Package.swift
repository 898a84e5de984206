// swift-tools-version:6.1
import PackageDescription

/// Settings every Sluice target shares (STYLE.md: one place for them).
let sharedSwiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

/// The engine's hot paths: generic operators specialised across modules, and no run-time
/// exclusivity checks in release builds (the operators are single-threaded by construction).
let hotPathSwiftSettings: [SwiftSetting] = sharedSwiftSettings + [
    .unsafeFlags(["-cross-module-optimization", "-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]

let package = Package(
    name: "Sluice",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "sluice", targets: ["sluice"]),
        .library(name: "SluiceCore", targets: ["SluiceCore"]),
        .library(name: "SluiceLog", targets: ["SluiceLog"]),
        .library(name: "SluiceKafkaProtocol", targets: ["SluiceKafkaProtocol"]),
        .library(name: "SluiceJSON", targets: ["SluiceJSON"]),
        .library(name: "SluiceStreams", targets: ["SluiceStreams"]),
        .library(name: "SluiceConnect", targets: ["SluiceConnect"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
    ],
    targets: [
        .target(
            name: "CSluiceCRC32C",
            cSettings: [.unsafeFlags(["-O3"])]
        ),
        .systemLibrary(name: "CSluiceZlib", path: "Sources/CSluiceZlib"),
        .target(
            name: "CSluiceDynamicCodecs",
            linkerSettings: [.linkedLibrary("dl", .when(platforms: [.linux]))]
        ),
        .target(name: "CSluiceMalloc"),
        .target(name: "CSluiceThread"),
        .target(name: "CSluiceFile"),
        .target(name: "CSluiceSIMD"),
        .target(
            name: "SluiceCore",
            dependencies: [
                "CSluiceCRC32C",
                "CSluiceThread",
                "CSluiceZlib",
                "CSluiceDynamicCodecs",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: hotPathSwiftSettings
        ),
        .target(
            name: "SluiceLog",
            dependencies: [
                "SluiceCore",
                "CSluiceFile",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: hotPathSwiftSettings
        ),
        .target(
            name: "SluiceKafkaProtocol",
            dependencies: ["SluiceCore", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: sharedSwiftSettings
        ),
        .executableTarget(
            name: "sluice-kafka-codegen",
            path: "Sources/SluiceKafkaCodegen",
            swiftSettings: sharedSwiftSettings
        ),
        .target(
            name: "SluiceBroker",
            dependencies: [
                "CSluiceMalloc",
                "SluiceCore",
                "SluiceLog",
                "SluiceKafkaProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: sharedSwiftSettings
        ),
        .target(
            name: "SluiceKafkaClient",
            dependencies: [
                "SluiceCore",
                "SluiceKafkaProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: sharedSwiftSettings
        ),
        .target(
            name: "SluiceJSON",
            dependencies: ["CSluiceSIMD", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: hotPathSwiftSettings
        ),
        .target(
            name: "SluiceStreams",
            dependencies: [
                "SluiceCore",
                "SluiceLog",
                "SluiceJSON",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            swiftSettings: hotPathSwiftSettings
        ),
        .target(
            name: "SluiceConnect",
            dependencies: [
                "SluiceCore",
                "SluiceLog",
                "SluiceJSON",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: sharedSwiftSettings
        ),
        .target(
            name: "SluiceNexmark",
            dependencies: ["SluiceCore", "SluiceJSON", "SluiceStreams"],
            swiftSettings: hotPathSwiftSettings
        ),
        .executableTarget(
            name: "sluice",
            dependencies: [
                "SluiceJSON",
                "SluiceStreams",
                "SluiceNexmark",
                "SluiceCore",
                "SluiceLog",
                "SluiceBroker",
                "SluiceKafkaClient",
                "SluiceConnect",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: sharedSwiftSettings
        ),
        .executableTarget(
            name: "windowed-counts",
            dependencies: ["SluiceCore", "SluiceLog", "SluiceStreams"],
            path: "Examples/WindowedCounts",
            swiftSettings: sharedSwiftSettings
        ),
        .target(
            name: "_SluiceTestSupport",
            dependencies: ["SluiceCore", "SluiceLog", .product(name: "NIOCore", package: "swift-nio")],
            path: "Tests/_SluiceTestSupport",
            swiftSettings: sharedSwiftSettings
        ),
        .testTarget(
            name: "SluiceCoreTests",
            dependencies: ["SluiceCore", "_SluiceTestSupport", .product(name: "NIOCore", package: "swift-nio")],
            resources: [.copy("Fixtures")],
            swiftSettings: sharedSwiftSettings
        ),
        .testTarget(
            name: "SluiceLogTests",
            dependencies: [
                "SluiceCore", "SluiceLog", "_SluiceTestSupport", "sluice",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: sharedSwiftSettings
        ),
        .testTarget(
            name: "SluiceKafkaProtocolTests",
            dependencies: [
                "SluiceKafkaProtocol", "SluiceCore", "_SluiceTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            resources: [.copy("Fixtures")],
            swiftSettings: sharedSwiftSettings
        ),
        .testTarget(
            name: "SluiceBrokerTests",
            dependencies: [
                "SluiceBroker", "SluiceKafkaProtocol", "SluiceCore", "SluiceLog", "_SluiceTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: sharedSwiftSettings
        ),
        .testTarget(
            name: "SluiceJSONTests",
            dependencies: ["SluiceJSON", "_SluiceTestSupport", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: sharedSwiftSettings
        ),
        .testTarget(
            name: "SluiceStreamsTests",
            dependencies: [
                "SluiceStreams", "SluiceJSON", "SluiceCore", "SluiceLog", "_SluiceTestSupport", "sluice",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: sharedSwiftSettings
        ),
        .testTarget(
            name: "SluiceConnectTests",
            dependencies: [
                "SluiceConnect", "SluiceJSON", "SluiceCore", "SluiceLog", "_SluiceTestSupport", "sluice",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: sharedSwiftSettings
        ),
        .testTarget(
            name: "SluiceNexmarkTests",
            dependencies: ["SluiceNexmark", "SluiceStreams", "SluiceJSON", "SluiceCore", "_SluiceTestSupport", "sluice"],
            swiftSettings: sharedSwiftSettings
        ),
    ]
)
