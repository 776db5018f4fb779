// SPDX-License-Identifier: GPL-3.0-or-later
// Output folders made before the work that fills them, with the system's reason when one cannot be.

import Foundation
import Glibc

enum OutputFolder {
    /// Makes `path` and its missing parents (mode 0777 before the umask), or throws naming the
    /// folder that could not be made and why, e.g. "cannot create folder /proc/sep: No such file or
    /// directory (/proc/sep)". Foundation's message for that was "The operation could not be
    /// completed. The file doesn’t exist.", naming nothing. `what` names the folder for the user
    /// ("folder", "--out-dir").
    static func make(_ path: String, what: String = "folder") throws(CommandError) {
        var built = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            built += "/" + component
            if mkdir(built, 0o777) == 0 { continue }
            let code = errno
            var info = stat()
            if code == EEXIST, stat(built, &info) == 0, info.st_mode & S_IFMT == S_IFDIR { continue }
            let reason = code == EEXIST ? "it exists and is not a folder" : String(cString: strerror(code))
            throw CommandError("cannot create \(what) \(path): \(reason)\(built == path || "./" + path == built ? "" : " (\(built))"). "
                               + "Check the path and permissions.", exitCode: .cannotCreate)
        }
    }
}
