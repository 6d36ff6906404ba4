import XCTest
final class IngestPlaceholderTests: XCTestCase { func testBuilds() {} }
