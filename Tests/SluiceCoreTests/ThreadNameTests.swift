import Foundation
import SluiceCore
import Testing

@Suite struct ThreadNameTests {
    /// The name reaches the system, cut to what Linux keeps.
    @Test func aThreadIsNamedAsTheSystemShowsIt() async throws {
        #if os(Linux)
        let (names, continuation) = AsyncStream<String>.makeStream()
        let thread = Thread {
            let named = nameCurrentThread("sluice-test-thread-7")
            let comm = (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? "unreadable"
            continuation.yield("\(named) \(comm.trimmingCharacters(in: .newlines))")
            continuation.finish()
        }
        thread.start()
        var iterator = names.makeAsyncIterator()
        #expect(await iterator.next() == "true sluice-test-thr")
        #endif
    }

    /// A name cut at the byte limit loses whole characters only.
    @Test func aLongNameIsCutBetweenCharacters() async throws {
        #if os(Linux)
        let (names, continuation) = AsyncStream<String>.makeStream()
        let thread = Thread {
            let named = nameCurrentThread("sluice-abcdefgü")
            let comm = (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? "unreadable"
            continuation.yield("\(named) \(comm.trimmingCharacters(in: .newlines))")
            continuation.finish()
        }
        thread.start()
        var iterator = names.makeAsyncIterator()
        #expect(await iterator.next() == "true sluice-abcdefg")
        #endif
    }
}
