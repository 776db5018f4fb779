// SPDX-License-Identifier: GPL-3.0-or-later
// What the host asks of whoever builds its engines: the factory, what it returns, and its typed error.

import SordinoDSP

/// An engine built for the host, with the control defaults its preset and the command line set.
public struct EngineBuild: ~Copyable {
    public var engine: Engine
    /// The default layer of the host's control block: the preset's values with the command
    /// line's overrides on top.
    public var defaults: ControlValues
    /// The controls whose default comes from the command line (the others are the preset's).
    public var commandLine: Set<ControlParameter>
    /// What the engine was built from, for the log ("speech-48k (/usr/share/…/speech-48k.json)").
    public var origin: String

    public init(engine: consuming Engine, defaults: ControlValues, commandLine: Set<ControlParameter>, origin: String) {
        self.engine = engine
        self.defaults = defaults
        self.commandLine = commandLine
        self.origin = origin
    }
}

/// Why the factory could not build an engine; `cause` is its own typed error (a preset's, say),
/// so a command can choose its exit code from it.
public struct EngineBuildError: Error, Equatable, CustomStringConvertible {
    public let cause: any Error

    public init(_ cause: any Error) { self.cause = cause }

    public var description: String { "\(cause)" }

    public static func == (a: EngineBuildError, b: EngineBuildError) -> Bool { a.description == b.description }
}

/// Builds an engine for the server's sample rate (Hz) that follows `controls` (the host's one
/// block). Called on the host's thread only: at start, after a reconnect, on a rate change and on
/// `reload()`. Must read its sources anew on every call (a reload picks up edited presets).
public typealias EngineFactory = (_ sampleRate: Int, _ controls: ControlBlock) throws(EngineBuildError) -> EngineBuild
