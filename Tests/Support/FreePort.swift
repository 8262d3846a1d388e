import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A socket call that failed while finding a loopback port.
package struct LoopbackSocketError: Error, CustomStringConvertible {
    package let description: String
}

/// A TCP socket bound to an ephemeral port of 127.0.0.1, listening when `backlog` is given; the
/// caller closes `fd`. `reuseAddress` sets `SO_REUSEADDR` first.
package func loopbackSocket(reuseAddress: Bool = false, backlog: Int32? = nil) throws -> (fd: Int32, port: Int) {
    #if canImport(Glibc)
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    #else
    let fd = socket(AF_INET, SOCK_STREAM, 0)
    #endif
    guard fd >= 0 else { throw LoopbackSocketError(description: "socket() failed") }
    if reuseAddress {
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
    }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0 else {
        close(fd)
        throw LoopbackSocketError(description: "bind() failed")
    }
    if let backlog, listen(fd, backlog) != 0 {
        close(fd)
        throw LoopbackSocketError(description: "listen() failed")
    }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let named = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    guard named == 0 else {
        close(fd)
        throw LoopbackSocketError(description: "getsockname() failed")
    }
    return (fd, Int(UInt16(bigEndian: address.sin_port)))
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
package func freeLoopbackPort() throws -> Int {
    let (fd, port) = try loopbackSocket()
    close(fd)
    return port
}
