import CSluiceThread
import Foundation

/// The longest thread name Linux keeps (16 bytes with the terminating zero).
public let threadNameBytesMax = 15

/// Names the calling thread, as `top -H`, `perf` and `/proc/PID/task/*/comm` show it. Setting a
/// Foundation `Thread`'s name before it starts does not reach the system on Linux: such a thread
/// showed as the dispatch worker that created it. Names longer than `threadNameBytesMax` are cut.
/// False if the system refused.
@discardableResult
public func nameCurrentThread(_ name: String) -> Bool {
    // Cut between characters, never inside one.
    var cut = ""
    for character in name {
        guard cut.utf8.count + character.utf8.count <= threadNameBytesMax else { break }
        cut.append(character)
    }
    return csluice_name_current_thread(cut) == 0
}

/// A thread, not started, that runs `body` under `name`, as both Foundation and the system see it.
public func namedThread(_ name: String, _ body: @escaping @Sendable () -> Void) -> Thread {
    let thread = Thread {
        nameCurrentThread(name)
        body()
    }
    thread.name = name
    return thread
}
