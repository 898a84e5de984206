import Foundation
import SluiceCore
import Testing

@Suite struct ThreadNameTests {
    /// Names a new thread `name`: whether the call succeeded, and the name the system then shows.
    private static func nameANewThread(_ name: String) async -> String? {
        let (names, continuation) = AsyncStream<String>.makeStream()
        let thread = Thread {
            let named = nameCurrentThread(name)
            let comm = (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? "unreadable"
            continuation.yield("\(named) \(comm.trimmingCharacters(in: .newlines))")
            continuation.finish()
        }
        thread.start()
        var iterator = names.makeAsyncIterator()
        return await iterator.next()
    }

    /// The name reaches the system, cut to what Linux keeps.
    @Test func aThreadIsNamedAsTheSystemShowsIt() async throws {
        #if os(Linux)
        #expect(await Self.nameANewThread("sluice-test-thread-7") == "true sluice-test-thr")
        #endif
    }

    /// A name cut at the byte limit loses whole characters only.
    @Test func aLongNameIsCutBetweenCharacters() async throws {
        #if os(Linux)
        #expect(await Self.nameANewThread("sluice-abcdefgü") == "true sluice-abcdefg")
        #endif
    }
}
