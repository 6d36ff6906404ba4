/// X-Robots-Tag handling, with img2dataset's rules.
///
/// Each header line is checked on its own. A line is either a list of directives that applies to
/// every bot (`noai, noimageai`) or a user-agent token, a colon and a list that applies to that
/// bot only (`otherbot: noai`). A line opts out when it applies to us (no token, or our token,
/// compared case-insensitively) and contains one of the disallowed directives.
/// Directives that themselves carry a colon (`unavailable_after: ...`, `max-snippet: 20`,
/// `max-image-preview: large`, `max-video-preview: -1`) are not taken for a user-agent token.
public struct RobotsPolicy: Sendable, Equatable {
    public var enabled: Bool
    /// Our user-agent token, lowercase.
    public var userAgentToken: String
    public var disallowed: Set<String>

    public static let defaultDisallowed: Set<String> = ["noai", "noimageai", "noindex", "noimageindex"]

    public init(enabled: Bool = true, userAgentToken: String = "capfilt",
                disallowed: Set<String> = RobotsPolicy.defaultDisallowed) {
        self.enabled = enabled
        self.userAgentToken = userAgentToken.lowercased()
        self.disallowed = Set(disallowed.map { $0.lowercased() })
    }

    private static let directivesWithValues: Set<String> = [
        "unavailable_after", "max-snippet", "max-image-preview", "max-video-preview",
    ]

    /// Whether one X-Robots-Tag header value opts this sample out.
    public func optsOut(headerValue: String) -> Bool {
        guard enabled else { return false }
        var list = Substring(headerValue)
        if let colon = list.firstIndex(of: ":") {
            let token = list[..<colon].trimmingSpaces().lowercased()
            if !token.isEmpty, !token.contains(" "), !token.contains(","),
               !Self.directivesWithValues.contains(token) {
                guard token == userAgentToken else { return false }
                list = list[list.index(after: colon)...]
            }
        }
        for directive in list.split(separator: ",") {
            if disallowed.contains(directive.trimmingSpaces().lowercased()) { return true }
        }
        return false
    }
}

extension Substring {
    func trimmingSpaces() -> Substring {
        var s = self
        while let first = s.first, first == " " || first == "\t" { s = s.dropFirst() }
        while let last = s.last, last == " " || last == "\t" || last == "\r" || last == "\n" { s = s.dropLast() }
        return s
    }
}
