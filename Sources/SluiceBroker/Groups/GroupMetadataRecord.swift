import SluiceCore

/// What `__consumer_offsets` keeps of a group's membership, as Kafka's GroupMetadataValue: the
/// generation, the chosen protocol, the leader and each member with its assignment. Written when a
/// rebalance completes (the leader's assignment is in) and when the group becomes empty, so that a
/// restarted broker knows the members of the last stable generation: their heartbeats and offset
/// commits go on being accepted instead of every consumer rejoining.
struct StoredGroup: Sendable, Equatable {
    var protocolType: String?
    var generationId: Int32
    var protocolName: String?
    var leaderId: String?
    /// In join order, which decides the next leader; with no pending request and no heartbeat time.
    var members: [ConsumerGroup.Member]
}

/// The key and value of a group's metadata record in `__consumer_offsets`. Its key version (2) differs
/// from an offset commit's (1), as in Kafka, so the two kinds never compact each other away.
enum GroupMetadataRecord {
    static let keyVersion: UInt8 = 2
    static let valueVersion: UInt8 = 1

    static func key(group: String) -> [UInt8] {
        var bytes: [UInt8] = [keyVersion]
        bytes.appendString(group)
        return bytes
    }

    /// The group of a metadata key; nil for any other kind of key.
    static func parseKey(_ bytes: [UInt8]) throws(SluiceError) -> String? {
        var reader = ByteReader(bytes)
        guard try reader.integer(as: UInt8.self) == keyVersion else { return nil }
        return try reader.string()
    }

    static func value(_ group: StoredGroup) -> [UInt8] {
        var bytes: [UInt8] = [valueVersion]
        bytes.appendOptionalString(group.protocolType)
        bytes.appendInteger(group.generationId)
        bytes.appendOptionalString(group.protocolName)
        bytes.appendOptionalString(group.leaderId)
        bytes.appendInteger(Int32(group.members.count))
        for member in group.members {
            bytes.appendString(member.memberId)
            bytes.appendOptionalString(member.groupInstanceId)
            bytes.appendString(member.clientId)
            bytes.appendString(member.clientHost)
            bytes.appendInteger(member.sessionTimeoutMs)
            bytes.appendInteger(member.rebalanceTimeoutMs)
            bytes.appendInteger(Int32(member.protocols.count))
            for choice in member.protocols {
                bytes.appendString(choice.name)
                bytes.appendBytesField(choice.metadata)
            }
            bytes.appendBytesField(member.assignment)
        }
        return bytes
    }

    static func parseValue(_ bytes: [UInt8]) throws(SluiceError) -> StoredGroup {
        var reader = ByteReader(bytes)
        guard try reader.integer(as: UInt8.self) == valueVersion else {
            throw SluiceError(.corruptData, "group metadata record has an unknown version")
        }
        let protocolType = try reader.optionalString()
        let generationId = try reader.integer(as: Int32.self)
        let protocolName = try reader.optionalString()
        let leaderId = try reader.optionalString()
        var members: [ConsumerGroup.Member] = []
        for _ in 0..<(try reader.count()) {
            let memberId = try reader.string()
            let groupInstanceId = try reader.optionalString()
            let clientId = try reader.string()
            let clientHost = try reader.string()
            let sessionTimeoutMs = try reader.integer(as: Int32.self)
            let rebalanceTimeoutMs = try reader.integer(as: Int32.self)
            var protocols: [ConsumerGroup.ProtocolChoice] = []
            for _ in 0..<(try reader.count()) {
                let name = try reader.string()
                protocols.append(.init(name: name, metadata: try reader.bytesField()))
            }
            members.append(ConsumerGroup.Member(
                memberId: memberId, groupInstanceId: groupInstanceId, clientId: clientId, clientHost: clientHost,
                sessionTimeoutMs: sessionTimeoutMs, rebalanceTimeoutMs: rebalanceTimeoutMs, protocols: protocols,
                assignment: try reader.bytesField(), lastHeartbeatMs: 0))
        }
        guard reader.isAtEnd else { throw SluiceError(.corruptData, "group metadata record has trailing bytes") }
        return StoredGroup(protocolType: protocolType, generationId: generationId, protocolName: protocolName, leaderId: leaderId,
                           members: members)
    }
}

extension [UInt8] {
    mutating func appendOptionalString(_ value: String?) {
        if let value {
            self.append(1)
            self.appendString(value)
        } else {
            self.append(0)
        }
    }

    mutating func appendBytesField(_ value: [UInt8]) {
        self.appendInteger(Int32(value.count))
        self.append(contentsOf: value)
    }
}

extension ByteReader {
    mutating func optionalString() throws(SluiceError) -> String? {
        switch try self.integer(as: UInt8.self) {
        case 0: return nil
        case 1: return try self.string()
        default: throw SluiceError(.corruptData, "internal record has a bad optional marker")
        }
    }
}
