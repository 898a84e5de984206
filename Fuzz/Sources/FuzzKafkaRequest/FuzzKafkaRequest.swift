import NIOCore
import SluiceCore
import SluiceKafkaProtocol

/// libFuzzer entry point: one request frame (without its size prefix), as the broker's decoder sees
/// it. Every input must end in a decoded request or a thrown error, never a trap, a hang or an
/// unbounded allocation. Produce requests also have their record batches walked and validated.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzKafkaRequest(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let frame = ByteBuffer(bytes: UnsafeRawBufferPointer(start: start, count: count))
    guard let request = try? KafkaRequestFrame(parsing: frame), let api = request.knownApiKey,
          api.validVersions.contains(request.apiVersion)
    else { return 0 }
    guard let decoded = try? api.requestType.init(decoding: request.body, version: request.apiVersion) else { return 0 }
    // A decoded request re-encodes (what the broker echoes back must be writable).
    _ = try? decoded.encoded(version: request.apiVersion)
    if let produce = decoded as? ProduceRequest {
        for topic in produce.topicData {
            for partition in topic.partitionData {
                var batches = RecordBatchSequence(partition.records ?? ByteBuffer())
                while let batch = try? batches.next() {
                    guard (try? batch.validate()) != nil else { break }
                    _ = try? batch.validateRecords(requireKeys: true)
                    _ = try? batch.records()
                    _ = try? batch.controlRecord()
                }
            }
        }
    }
    return 0
}

// SwiftPM links an executable's entry point as `<module>_main`; hand it to libFuzzer's driver.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

@_cdecl("FuzzKafkaRequest_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return runFuzzerDriver(&count, &arguments) { data, size in
        guard let data, size > 0 else { return fuzzKafkaRequest(UnsafeRawPointer(bitPattern: 1)!, 0) }
        return fuzzKafkaRequest(UnsafeRawPointer(data), size)
    }
}
