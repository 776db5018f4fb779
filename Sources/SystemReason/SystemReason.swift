// SPDX-License-Identifier: GPL-3.0-or-later
// The system's reason for a failed file operation, for error messages: the POSIX error beneath Foundation's.

import Foundation
import Glibc

/// Why a file operation failed, in the system's words ("No such file or directory", "Permission
/// denied", "Read-only file system"): the POSIX error Foundation keeps beneath its own, whose text
/// names nothing ("The operation could not be completed. The file doesn’t exist."); Foundation's
/// description when there is none.
public func systemReason(_ error: any Error) -> String {
    if let posix = error as? POSIXError { return String(cString: strerror(posix.code.rawValue)) }
    if let posix = (error as NSError).userInfo[NSUnderlyingErrorKey] as? POSIXError {
        return String(cString: strerror(posix.code.rawValue))
    }
    return error.localizedDescription
}
