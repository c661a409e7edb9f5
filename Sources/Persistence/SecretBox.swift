import Crypto
import Foundation

/// Seals secrets at rest with AES-256-GCM under the master key (`CP_MASTER_KEY`). A sealed value is
/// nonce, ciphertext and tag; tampering or a wrong key makes `open` throw. While the master key is being
/// rotated, the previous key (`CP_PREVIOUS_MASTER_KEY`) still opens what it sealed; new values are
/// always sealed with the current key.
public struct SecretBox: Sendable {
    public enum KeyError: Error, CustomStringConvertible {
        case invalidMasterKey
        public var description: String {
            "CP_MASTER_KEY must be 32 random bytes, base64-encoded (e.g. `openssl rand -base64 32`)"
        }
    }

    fileprivate let key: SymmetricKey
    fileprivate let previous: SymmetricKey?

    public init(key: SymmetricKey, previous: SymmetricKey? = nil) {
        self.key = key
        self.previous = previous
    }

    /// Reads a base64-encoded 32-byte master key, and the previous one while a rotation is under way.
    public init(base64MasterKey: String, previous: String? = nil) throws {
        self.key = try Self.key(base64MasterKey)
        self.previous = try previous.flatMap { $0.isEmpty ? nil : try Self.key($0) }
    }

    private static func key(_ base64: String) throws -> SymmetricKey {
        guard let data = Data(base64Encoded: base64.trimmingCharacters(in: .whitespacesAndNewlines)), data.count == 32
        else { throw KeyError.invalidMasterKey }
        return SymmetricKey(data: data)
    }

    /// Whether a previous key is configured (a rotation is under way).
    public var hasPreviousKey: Bool { previous != nil }

    /// Encrypts `plaintext`; `context` is authenticated too, so a value cannot be moved to another row.
    public func seal(_ plaintext: some DataProtocol, context: String) throws -> [UInt8] {
        let box = try AES.GCM.seal(plaintext, using: key, authenticating: Data(context.utf8))
        guard let combined = box.combined else { throw KeyError.invalidMasterKey }
        return Array(combined)
    }

    /// Decrypts a value made by `seal` with the same `context`, under the current or the previous key.
    public func open(_ sealed: some DataProtocol, context: String) throws -> Data {
        try openReportingKey(sealed, context: context).plaintext
    }

    /// Which key a sealed value opened with.
    public enum Opener: Sendable, Equatable { case current, previous }

    /// Decrypts like `open`, and says which key did it (a rotation re-seals what the previous one opens).
    public func openReportingKey(_ sealed: some DataProtocol, context: String) throws -> (
        plaintext: Data, key: Opener
    ) {
        let box = try AES.GCM.SealedBox(combined: Data(sealed))
        do {
            return (try AES.GCM.open(box, using: key, authenticating: Data(context.utf8)), .current)
        } catch {
            guard let previous else { throw error }
            return (try AES.GCM.open(box, using: previous, authenticating: Data(context.utf8)), .previous)
        }
    }
}

extension SecretBox {
    /// A key for one purpose (cursor tags, request fingerprints), derived from the master key with
    /// HKDF-SHA256, so no two uses share key material and none exposes the master key.
    public func derivedKey(purpose: String) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: key, info: Data(purpose.utf8), outputByteCount: 32)
    }

    /// The purpose's key under the current master key, then under the previous one during a rotation:
    /// what was tagged before the rotation still verifies.
    public func derivedKeys(purpose: String) -> [SymmetricKey] {
        [key, previous].compactMap { $0 }.map {
            HKDF<SHA256>.deriveKey(inputKeyMaterial: $0, info: Data(purpose.utf8), outputByteCount: 32)
        }
    }
}
