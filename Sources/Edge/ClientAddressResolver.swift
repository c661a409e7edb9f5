import Settings

/// Finds the client's address behind reverse proxies without believing what the client wrote.
///
/// `X-Forwarded-For` is a list each proxy appends its peer to, so only its right end is trustworthy.
/// With trusted proxy blocks (`CP_TRUSTED_PROXIES`), the resolver starts at the connected peer and walks
/// the list from the right while the address in hand is a trusted proxy; the first untrusted address is
/// the client. With a hop count (`CP_TRUSTED_PROXY_HOPS`), it takes the entry that many places from the
/// right end, counting the peer as the first hop. With neither, the header is ignored. An entry that is
/// not an address ends the walk at the last good one.
package struct ClientAddressResolver: Sendable {
    package let trustedBlocks: [AddressBlock]
    package let trustedHops: Int

    /// Fails on a proxy entry that is not an address or block, so a typo cannot silently trust nobody.
    package init(trustedProxies: [String], trustedHops: Int) throws {
        trustedBlocks = try trustedProxies.map { text in
            guard let block = AddressBlock(text) else { throw ConfigurationError.invalid("CP_TRUSTED_PROXIES", text) }
            return block
        }
        self.trustedHops = trustedHops
    }

    /// The client's address, or nil when the peer is unknown.
    package func resolve(peer: String?, forwardedFor: [String]) -> IPAddress? {
        guard let peerText = peer, let peer = IPAddress(peerText) else { return nil }
        let entries = forwardedFor.flatMap { $0.split(separator: ",") }.reversed().prefix(32)
        if !trustedBlocks.isEmpty {
            var current = peer
            for entry in entries {
                guard trustedBlocks.contains(where: { $0.contains(current) }) else { return current }
                guard let next = IPAddress(entry) else { return current }
                current = next
            }
            return current
        }
        if trustedHops > 0 {
            var current = peer
            for entry in entries.prefix(trustedHops) {
                guard let next = IPAddress(entry) else { return current }
                current = next
            }
            return current
        }
        return peer
    }
}
