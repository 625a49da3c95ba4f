// The server's layout and its children's arguments, without processes.

import NodeServer
import Testing

@Suite struct ServerLayoutTests {
    @Test func defaultsMatchLonghornsPortsAndNothingOverlaps() throws {
        let layout = ServerLayout(dataDirectory: "/var/lib/hornbill")
        try layout.validate()
        #expect(layout.managerPort == 9500)
        #expect(layout.v1InstanceManager.arguments.starts(with: ["instance-manager", "--listen", "0.0.0.0:8500"]))
        #expect(layout.v2InstanceManager.arguments.contains("--spdk-enabled"))
        #expect(layout.v2SPDKServicePort == 8604)
        let v2 = layout.v2InstanceManager.arguments
        let socket = try #require(v2.firstIndex(of: "--spdk-socket"))
        #expect(v2[socket + 1] == "/var/lib/hornbill/tgt/spdk.sock")
        #expect(
            layout.manager.arguments == [
                "manager", "--data-dir", "/var/lib/hornbill/manager", "--listen", "0.0.0.0:9500",
                "--v1-instance-manager", "127.0.0.1:8500", "--v2-instance-manager", "127.0.0.1:8600",
                "--disk-dir", "/var/lib/hornbill", "--log-dir", "/var/lib/hornbill/logs",
            ])
    }

    @Test func theTgtGetsTheHugepageLimitAndNoHugeWithoutHugepages() {
        let layout = ServerLayout(dataDirectory: "/d")
        #expect(
            layout.tgt(memoryMiB: 2048, hugePagesReserved: true).arguments == [
                "tgt", "--rpc-socket", "/d/tgt/spdk.sock", "--mem-size", "2048",
            ])
        #expect(layout.tgt(memoryMiB: 64, hugePagesReserved: false).arguments.last == "--no-huge")
    }

    @Test func overlappingOrOutOfRangePortsAreRefused() {
        #expect(throws: ServerError.self) { try ServerLayout(dataDirectory: "/d", managerPort: 8502).validate() }
        #expect(throws: ServerError.self) {
            try ServerLayout(dataDirectory: "/d", v2InstanceManagerPort: 8503).validate()
        }
        #expect(throws: ServerError.self) {
            try ServerLayout(dataDirectory: "/d", v2InstancePorts: 65000...65530).validate()
        }
        #expect(throws: ServerError.self) { try ServerLayout(dataDirectory: "/d", managerPort: 0).validate() }
        #expect(throws: ServerError.self) {
            try ServerLayout(dataDirectory: "/d", v1ProcessPorts: 10000...20000, v2InstancePorts: 19000...25000)
                .validate()
        }
    }

    @Test func hugepagesAreReadFromMeminfo() {
        #expect(HugePages.reserved(inMeminfo: "MemTotal: 1 kB\nHugePages_Total:     512\nHugePages_Free: 0\n") == 512)
        #expect(HugePages.reserved(inMeminfo: "HugePages_Total:       0\n") == 0)
        #expect(HugePages.reserved(inMeminfo: "") == 0)
    }
}
