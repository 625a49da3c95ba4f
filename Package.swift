// swift-tools-version:6.1
import PackageDescription

/// Compiler settings every Swift target shares (design/STYLE.md #14).
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "Hornbill",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "hornbill", targets: ["hornbill"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", from: "2.4.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.8.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.5.0"),
    ],
    targets: [
        // Pure cores: no I/O.
        .target(name: "StorageKit", swiftSettings: strictSettings),
        .target(name: "BlockCore", dependencies: ["StorageKit"], swiftSettings: strictSettings),
        .target(name: "NVMeWire", dependencies: ["StorageKit"], swiftSettings: strictSettings),
        .target(name: "ManagerModel", swiftSettings: strictSettings),
        .target(name: "ManagerScheduler", dependencies: ["ManagerModel"], swiftSettings: strictSettings),

        // The one C seam: io_uring system calls and block-device ioctls.
        .target(name: "CLinuxIO"),

        // Engine modules.
        .target(
            name: "BlockDevices",
            dependencies: ["StorageKit", "BlockCore", "CLinuxIO"],
            swiftSettings: strictSettings
        ),
        .target(
            name: "LogicalVolumes",
            dependencies: ["StorageKit", "BlockCore"],
            swiftSettings: strictSettings
        ),
        .target(
            name: "RAID",
            dependencies: ["StorageKit", "BlockCore"],
            swiftSettings: strictSettings
        ),
        .target(
            name: "DataEngineV1",
            dependencies: ["BlockCore", "BlockDevices"],
            swiftSettings: strictSettings
        ),
        .target(
            name: "FUSEBridge",
            dependencies: ["BlockCore", "BlockDevices", "CLinuxIO"],
            swiftSettings: strictSettings
        ),
        .target(
            name: "NBD",
            dependencies: ["BlockCore", "BlockDevices"],
            swiftSettings: strictSettings
        ),
        .target(
            name: "NVMeTCP",
            dependencies: ["StorageKit", "BlockCore", "BlockDevices", "NVMeWire"],
            swiftSettings: strictSettings
        ),

        .target(
            name: "ManagerStore",
            dependencies: ["ManagerModel", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: strictSettings
        ),

        // Edges.
        .target(
            name: "JSONRPC",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),

        // The instance manager's gRPC edge: generated messages and stubs (scripts/generate-grpc.sh),
        // then the servers that carry them with health and reflection.
        .target(
            name: "InstanceManagerAPI",
            dependencies: [
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "InstanceManagerServer",
            dependencies: [
                "InstanceManager",
                "InstanceManagerAPI",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            swiftSettings: strictSettings
        ),

        // The manager's REST API in Longhorn's /v1 (go-rancher) envelope.
        .target(
            name: "ManagerREST",
            dependencies: [
                "ManagerModel",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),

        // The manager's controllers: the reconcile runtime and the node, disk and instance-manager loops.
        .target(
            name: "ManagerControllers",
            dependencies: [
                "ManagerModel",
                "ManagerScheduler",
                "ManagerStore",
                "InstanceManagerAPI",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),

        // The REST API's client (the command line, the server's settings follower).
        .target(name: "ManagerClient", swiftSettings: strictSettings),

        // `hornbill server`: the supervisor of one node's processes.
        .target(
            name: "NodeServer",
            dependencies: ["ManagerClient", "InstanceManager", "JSONRPC", "CLinuxIO"],
            swiftSettings: strictSettings
        ),

        .target(
            name: "EngineRPC",
            dependencies: ["BlockCore", "BlockDevices", "LogicalVolumes", "RAID", "NVMeWire", "NVMeTCP", "NBD", "JSONRPC"],
            swiftSettings: strictSettings
        ),

        .target(
            name: "InstanceManager",
            dependencies: ["StorageKit", "JSONRPC", "CLinuxIO"],
            swiftSettings: strictSettings
        ),

        // Executable: wiring only.
        .executableTarget(
            name: "hornbill",
            dependencies: [
                "StorageKit", "BlockCore", "BlockDevices", "LogicalVolumes", "NVMeWire", "NVMeTCP", "DataEngineV1",
                "NBD", "JSONRPC", "EngineRPC", "InstanceManager", "InstanceManagerServer",
                "ManagerModel", "ManagerStore", "ManagerREST", "ManagerClient", "ManagerControllers", "NodeServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),

        // Test-only libraries.
        .target(
            name: "Simulation",
            dependencies: ["StorageKit", "BlockCore"],
            swiftSettings: strictSettings
        ),
        .target(
            name: "TestSupport",
            dependencies: ["StorageKit", "BlockCore", "BlockDevices", "InstanceManager", "JSONRPC"],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "hornbill-crash-worker",
            dependencies: ["StorageKit", "BlockCore", "BlockDevices", "LogicalVolumes", "TestSupport"],
            path: "Tests/CrashWorker",
            swiftSettings: strictSettings
        ),

        .executableTarget(
            name: "hornbill-store-writer",
            dependencies: ["ManagerModel", "ManagerStore"],
            path: "Tests/StoreWriter",
            swiftSettings: strictSettings
        ),

        .testTarget(
            name: "ManagerRESTTests",
            dependencies: [
                "ManagerModel", "ManagerREST", "ManagerStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ManagerControllersTests",
            dependencies: [
                "ManagerModel", "ManagerStore", "ManagerControllers", "ManagerREST", "InstanceManagerAPI", "TestSupport",
                "JSONRPC",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "NodeServerTests",
            dependencies: [
                "ManagerClient", "ManagerModel", "ManagerStore", "NodeServer", "JSONRPC", "TestSupport", "InstanceManagerAPI",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "StorageKitTests",
            dependencies: ["StorageKit"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ManagerModelTests",
            dependencies: ["ManagerModel"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ManagerSchedulerTests",
            dependencies: ["ManagerModel", "ManagerScheduler"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "BlockDevicesTests",
            dependencies: ["StorageKit", "BlockCore", "BlockDevices", "TestSupport", "Simulation"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "LogicalVolumesTests",
            dependencies: [
                "StorageKit", "BlockCore", "BlockDevices", "LogicalVolumes", "TestSupport", "Simulation",
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "RAIDTests",
            dependencies: ["StorageKit", "BlockCore", "BlockDevices", "RAID", "TestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "NVMeTests",
            dependencies: ["StorageKit", "BlockCore", "BlockDevices", "NVMeWire", "NVMeTCP", "TestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "DataEngineV1Tests",
            dependencies: ["StorageKit", "BlockCore", "BlockDevices", "DataEngineV1", "TestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "FUSEBridgeTests",
            dependencies: ["BlockCore", "BlockDevices", "CLinuxIO", "FUSEBridge", "TestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "NBDTests",
            dependencies: ["StorageKit", "BlockCore", "BlockDevices", "NBD", "TestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "JSONRPCTests",
            dependencies: [
                "JSONRPC", "StorageKit", "TestSupport",
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "InstanceManagerTests",
            dependencies: ["InstanceManager", "StorageKit", "JSONRPC", "TestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "InstanceManagerServerTests",
            dependencies: [
                "InstanceManager", "InstanceManagerAPI", "InstanceManagerServer", "JSONRPC", "TestSupport",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ManagerStoreTests",
            dependencies: ["ManagerModel", "ManagerStore", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "HornbillCLITests",
            dependencies: [
                "StorageKit", "BlockCore", "BlockDevices", "LogicalVolumes", "NVMeTCP", "NVMeWire", "TestSupport", "JSONRPC",
                "NBD", "DataEngineV1", "ManagerClient",
            ],
            swiftSettings: strictSettings
        ),
    ]
)
