import Foundation
import Persistence

/// Mints the three kinds of token, always with the keyring's current signing key. Loading that key may
/// read Postgres, so a caller inside a transaction takes a `TokenSigner` first (`signer()`) and signs
/// with it there: a code path never waits for a second pooled connection while it holds one.
public struct TokenIssuer: Sendable {
    public let codec: TokenCodec
    public let keyring: SigningKeyring

    public init(codec: TokenCodec, keyring: SigningKeyring) {
        self.codec = codec
        self.keyring = keyring
    }

    /// A signer holding the current signing key (loaded from Postgres only when none is known yet).
    public func signer() async throws -> TokenSigner {
        TokenSigner(codec: codec, key: try await keyring.currentSigningKey())
    }

    /// A login access token (see `TokenSigner.accessToken`).
    public func accessToken(for user: UserRecord, session: SessionRecord, lifetime: Duration, now: Date) async throws
        -> String
    {
        try await signer().accessToken(for: user, session: session, lifetime: lifetime, now: now)
    }

    /// An operator token (see `TokenSigner.operatorToken`).
    public func operatorToken(subject: String, lifetime: Duration, now: Date = Date()) async throws -> String {
        try await signer().operatorToken(subject: subject, lifetime: lifetime, now: now)
    }
}

/// Signs tokens with one signing key, without any I/O.
public struct TokenSigner: Sendable {
    let codec: TokenCodec
    let key: SigningKey

    /// The token of an API key: `sub` and `jti` are the key id, `exp` its expiry.
    public func apiKeyToken(for key: ApiKeyRecord, now: Date = Date()) throws -> String {
        let id = key.id.uuidString.lowercased()
        let issuedAt = Self.seconds(now)
        let claims = Claims(
            iss: codec.issuer, aud: codec.audience, sub: id, jti: id, tid: key.tenantID.description,
            scp: key.scopes.sorted().map(\.rawValue), iat: issuedAt, nbf: issuedAt,
            exp: Self.seconds(key.expiresAt), kind: .apiKey)
        return try codec.sign(claims, with: self.key)
    }

    /// A short-lived login access token carrying the user's role scopes, bound to `session` (it expires
    /// with the session at the latest, and stops when the session ends).
    public func accessToken(for user: UserRecord, session: SessionRecord, lifetime: Duration, now: Date) throws
        -> String
    {
        let issuedAt = Self.seconds(now)
        let sessionEnd = Self.seconds(session.endsAt)
        let claims = Claims(
            iss: codec.issuer, aud: codec.audience, sub: user.id.uuidString.lowercased(),
            jti: UUID().uuidString.lowercased(), tid: user.tenantID.description,
            scp: user.role.scopes.sorted().map(\.rawValue), iat: issuedAt, nbf: issuedAt,
            exp: min(issuedAt + lifetime.components.seconds, sessionEnd), kind: .access,
            sid: session.id.uuidString.lowercased())
        return try codec.sign(claims, with: key)
    }

    /// An operator token for `/v1/admin/*`, with the operator claim and no tenant.
    public func operatorToken(subject: String, lifetime: Duration, now: Date = Date()) throws -> String {
        let issuedAt = Self.seconds(now)
        let claims = Claims(
            iss: codec.issuer, aud: codec.operatorAudience, sub: "operator:\(subject)",
            jti: UUID().uuidString.lowercased(),
            tid: nil, scp: [], iat: issuedAt, nbf: issuedAt, exp: issuedAt + lifetime.components.seconds,
            kind: .operator, op: true)
        return try codec.sign(claims, with: key)
    }

    /// Whole seconds since 1970 for a claim, between 0 and the end of year 9999 whatever the date holds,
    /// so no clock or stored time can make the conversion trap.
    static func seconds(_ date: Date) -> Int64 {
        date.timeIntervalSince1970.roundedDown(atLeast: 0, atMost: 253_402_300_799)
    }
}
