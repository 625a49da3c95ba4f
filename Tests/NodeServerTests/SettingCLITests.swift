// `hornbill setting list|get|set` against a running manager: tables, JSON, and one-line errors.

import Foundation
import ManagerClient
import TestSupport
import Testing

@Suite(.serialized, .timeLimit(.minutes(2))) struct SettingCLITests {
    @Test func listGetAndSetAsTablesAndJSON() async throws {
        let scratch = try ScratchDirectory()
        let manager = try await ManagerDaemon(directory: scratch.path)
        let server = "http://127.0.0.1:\(manager.port)"

        let list = try hornbill(["setting", "list", "--server", server])
        #expect(list.status == 0, "\(list.errors)")
        let lines = list.output.split(separator: "\n").map(String.init)
        #expect(
            lines.first?.split(separator: " ", omittingEmptySubsequences: true) == [
                "NAME", "VALUE", "DEFAULT", "APPLIED",
            ])
        let row = try #require(lines.first { $0.hasPrefix("v2-data-engine ") })
        #expect(Array(row.split(separator: " ").prefix(3)) == ["v2-data-engine", "false", "false"])
        // Aligned: every name ends before the VALUE column, and each value starts there.
        let valueColumn = try #require(lines[0].range(of: "VALUE")).lowerBound.utf16Offset(in: lines[0])
        for line in lines.dropFirst() {
            let index = line.index(line.startIndex, offsetBy: valueColumn)
            #expect(line[line.index(before: index)] == " ", "\(line)")
        }
        #expect(row.dropFirst(valueColumn).hasPrefix("false"))

        // The server from the environment; set answers the new value.
        let set = try hornbill(
            ["setting", "set", "v2-data-engine-hugepage-limit", "128"], environment: ["HORNBILL_SERVER": server])
        #expect(set.status == 0, "\(set.errors)")
        #expect(set.output.contains("v2-data-engine-hugepage-limit   128"))
        let json = try hornbill([
            "setting", "get", "v2-data-engine-hugepage-limit", "--server", server, "--output", "json",
        ])
        #expect(json.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any])
        #expect(object["value"] as? String == "128")
        #expect(object["type"] as? String == "setting")

        let listJSON = try hornbill(["setting", "list", "--server", server, "--output", "json"])
        let collection = try #require(
            try JSONSerialization.jsonObject(with: Data(listJSON.output.utf8)) as? [String: Any])
        #expect(collection["type"] as? String == "collection")
        #expect((collection["data"] as? [Any])?.count ?? 0 > 10)
    }

    @Test func failuresAreOneLineOnStderrAndANonZeroExit() async throws {
        let scratch = try ScratchDirectory()
        let manager = try await ManagerDaemon(directory: scratch.path)
        let server = "http://127.0.0.1:\(manager.port)"

        let invalid = try hornbill(["setting", "set", "v2-data-engine", "maybe", "--server", server])
        #expect(invalid.status != 0)
        #expect(invalid.output.isEmpty)
        #expect(invalid.errors.split(separator: "\n").count == 1)
        #expect(invalid.errors.contains("with invalid value"))

        let unknown = try hornbill(["setting", "get", "no-such-setting", "--server", server])
        #expect(unknown.status != 0)
        #expect(unknown.errors.split(separator: "\n").count == 1)
        #expect(unknown.errors.contains("no-such-setting"))

        let closed = freeTCPPort()
        let unreachable = try hornbill(["setting", "list", "--server", "http://127.0.0.1:\(closed)"])
        #expect(unreachable.status != 0)
        #expect(unreachable.errors.split(separator: "\n").count == 1)
        #expect(unreachable.errors.contains("cannot reach the manager"))

        let badURL = try hornbill(["setting", "list", "--server", "ftp:/x"])
        #expect(badURL.status != 0)
        #expect(badURL.errors.contains("not an http"))
        #expect(try await settingValue(manager.client, "v2-data-engine") == "false")
    }
}

/// The command line's pure parts: tables and disk-map edits.
@Suite struct ClientFormattingTests {
    @Test func tablesAlignColumnsWithoutTrailingBlanks() {
        let table = TextTable(headers: ["NAME", "VALUE"], rows: [["a", "1"], ["longer-name", ""], ["b"]])
        #expect(table.rendered == "NAME          VALUE\na             1\nlonger-name\nb\n")
    }

    @Test func diskEditsKeepTheOtherDisksAndRefuseWhatCannotBe() throws {
        let json = """
            {"name":"n1","disks":{"d1":{"diskType":"filesystem","path":"/a","allowScheduling":true,"storageReserved":"10","tags":["x"],"storageMaximum":100},
            "d2":{"diskType":"block","path":"/dev/b","diskDriver":"aio","allowScheduling":false,"storageReserved":0}}}
            """
        let node = try JSONDecoder().decode(NodeItem.self, from: Data(json.utf8))
        #expect(node.disks["d1"]?.spec.storageReserved == 10)
        #expect(node.disks["d1"]?.storageMaximum == 100)

        let added = try node.addingDisk("d3", DiskSpecBody(path: "/c"))
        #expect(Set(added.disks.keys) == ["d1", "d2", "d3"])
        #expect(added.disks["d2"] == node.disks["d2"]?.spec)
        #expect(throws: ManagerClientError.self) { try node.addingDisk("d1", DiskSpecBody(path: "/c")) }

        let removed = try node.removingDisk("d2")
        #expect(Set(removed.disks.keys) == ["d1"])
        #expect(throws: ManagerClientError.self) { try node.removingDisk("d9") }

        let changed = try node.changingDisk("d1", DiskChange(allowScheduling: false, tags: []))
        #expect(changed.disks["d1"]?.allowScheduling == false)
        #expect(changed.disks["d1"]?.tags == [])
        #expect(changed.disks["d1"]?.path == "/a")
        #expect(throws: ManagerClientError.self) { try node.changingDisk("d1", DiskChange()) }
        #expect(throws: ManagerClientError.self) { try node.changingDisk("d1", DiskChange(storageReserved: -1)) }
    }
}
