import XCTest
final class MEDTestsPlaceholder: XCTestCase { func testBuilds() {} }
