// SPDX-License-Identifier: GPL-3.0-or-later
// swift-log for the JACK commands: one bootstrap to stderr, and `--log-level` parsing.

import ArgumentParser
import Logging

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// Sends every logger of the process (Sordino's and libjack's messages) to stderr at `level`.
/// Call once, from the command's `run()`, before the first logger is made.
func bootstrapLogging(level: Logger.Level) {
    LoggingSystem.bootstrap { label in
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = level
        return handler
    }
}
