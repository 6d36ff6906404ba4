import Basics
import Dispatch
import XCTest

final class LockedTests: XCTestCase {
    func testConcurrentUpdatesAreNotLost() {
        let counter = Locked(0)
        DispatchQueue.concurrentPerform(iterations: 1000) { _ in counter.withLock { $0 += 1 } }
        XCTAssertEqual(counter.current, 1000)
    }
}
