import Crypto

/// Lower-case hex SHA-256 of `bytes`: API key hashes and model file hashes.
public func sha256Hex(_ bytes: [UInt8]) -> String {
    let digits: [UInt8] = Array("0123456789abcdef".utf8)
    var hex = [UInt8](repeating: 0, count: 64)
    var position = 0
    for byte in SHA256.hash(data: bytes) {
        hex[position] = digits[Int(byte >> 4)]
        hex[position + 1] = digits[Int(byte & 15)]
        position += 2
    }
    return String(decoding: hex, as: UTF8.self)
}
