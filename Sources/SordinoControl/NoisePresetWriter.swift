// SPDX-License-Identifier: GPL-3.0-or-later
// save-noise: the running preset with its learned noise atoms, written as a new preset into the user's folder, atomically.

import Foundation
import Glibc
import SordinoDSP
import SordinoIO
import SordinoPresets
import SystemReason

/// Writes a preset whose noise part ends in a `LearnedNoise`'s atoms, as `NAME.json` next to a basis file named
/// after its checksum (`NAME-CRC32.basis`, and `NAME-CRC32.gain` for a gain model).
///
/// Nothing is lost on any failure: every file is written to a temporary name in the target folder,
/// `fsync`ed, and renamed into place; the JSON, renamed last, is what switches a reader from the
/// old preset of that name (if any) to the new one, and the new basis never overwrites the file the
/// old JSON names (a different checksum gives a different name). Only after the switch are the
/// old preset's own basis and gain files removed. A full disk or a read-only folder stops the
/// write before the switch and removes what it wrote.
public enum NoisePresetWriter {
    /// Names `save-noise` accepts: 1 to 64 letters, digits, '-' and '_', starting with a letter or
    /// a digit (no '/', no '.', nothing hidden).
    public static func isSafeName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, name.unicodeScalars.count <= 64 else { return false }
        func plain(_ u: Unicode.Scalar) -> Bool { u.isASCII && (u.properties.isAlphabetic || ("0"..."9").contains(u)) }
        return plain(first) && name.unicodeScalars.allSatisfy { plain($0) || $0 == "-" || $0 == "_" }
    }

    /// `preset` with `learned` appended to its noise atoms, named `name`, with `provenance`.
    public static func preset(from preset: Preset, learned: LearnedNoise, name: String,
                              provenance: PresetMetadata.Provenance) throws(ControlFailure) -> Preset {
        let basis = try learned.basis(extending: preset.basis)
        var result = preset
        result.basis = basis
        result.metadata.name = name
        result.metadata.description = "\(preset.metadata.description) — noise atoms learned live: \(learned.atomCount) from "
            + "\(NoiseLearner.formatted(learned.seconds)) s of input"
        result.metadata.provenance = provenance
        result.metadata.solver.activationFloor = NoiseLearner.activationFloor   // as the live engine with learned atoms
        let checksum = BasisFile.checksumString(BasisFile.crc32(BasisFile.payload(of: basis)))
        result.metadata.basis = .init(file: "\(name)-\(checksum).basis", speechRank: basis.speechRank,
                                      noiseRank: basis.noiseRank, binCount: basis.binCount, checksum: checksum)
        if let model = preset.gainModel, preset.metadata.gain != nil {   // renamed; every other gain field kept
            let gainChecksum = BasisFile.checksumString(BasisFile.crc32(GainFile.payload(of: model)))
            result.metadata.gain?.file = "\(name)-\(gainChecksum).gain"
            result.metadata.gain?.checksum = gainChecksum
        }
        do throws(PresetError) { try result.validate(path: name) } catch {
            throw ControlFailure(.learnFailed, "the preset with learned noise does not validate: \(error)")
        }
        return result
    }

    /// Writes `preset` (from `preset(from:…)`) into `folder` (created, 0755, when missing) as
    /// `NAME.json`; returns its path. Throws `.ioError` saying what failed and that nothing changed.
    public static func write(_ preset: Preset, to folder: String) throws(ControlFailure) -> String {
        let name = preset.metadata.name
        guard isSafeName(name) else { throw ControlFailure(.badRequest, "\"\(name)\" is not a safe preset name") }
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o755])
        } catch {
            throw ControlFailure(.ioError, "cannot create the preset folder \(folder): \(systemReason(error)). "
                                 + "Check its permissions; nothing was written")
        }
        let jsonPath = "\(folder)/\(name).json"
        let previous = try? Preset.load(path: jsonPath)
        let json: Data
        do throws(PresetError) { json = try preset.metadata.encodedJSON() } catch {
            throw ControlFailure(.ioError, "cannot encode the preset: \(error)")
        }
        var files: [(name: String, bytes: [UInt8])] = [(preset.metadata.basis.file,
                                                         BasisFile.encode(preset.basis, seed: preset.metadata.provenance.seed))]
        if let model = preset.gainModel, let gain = preset.metadata.gain { files.append((gain.file, GainFile.encode(model))) }
        var placed: [String] = []
        do throws(ControlFailure) {
            for file in files {
                let path = "\(folder)/\(file.name)"
                if !FileManager.default.fileExists(atPath: path) { placed.append(path) }
                try writeAtomically(file.bytes, to: path)
            }
            try writeAtomically([UInt8](json), to: jsonPath)
        } catch {
            for path in placed { unlink(path) }
            throw error
        }
        // The old preset of this name is replaced: its own data files go (never the new ones).
        if let previous {
            let kept = Set(files.map(\.name))
            for old in [previous.metadata.basis.file, previous.metadata.gain?.file].compactMap({ $0 }) where !kept.contains(old) {
                unlink("\(folder)/\(old)")
            }
        }
        return jsonPath
    }

    /// `AtomicFile.write`, its failure as the control protocol's io-error.
    private static func writeAtomically(_ bytes: [UInt8], to path: String) throws(ControlFailure) {
        var failed: AtomicFileError?
        bytes.withUnsafeBytes { body in
            do throws(AtomicFileError) { try AtomicFile.write([body], to: path) } catch { failed = error }
        }
        if let failed { throw failure(failed.step, failed.path, failed.code) }
    }

    private static func failure(_ call: String, _ path: String, _ code: Int32) -> ControlFailure {
        let advice = switch code {
        case ENOSPC, EDQUOT: "The disk is full: free some space and save again."
        case EROFS: "The file system is read-only: set XDG_DATA_HOME to a writable place, or remount."
        case EACCES, EPERM: "Check the folder's permissions (it must be writable by the daemon's user)."
        default: "Check the folder and save again."
        }
        return ControlFailure(.ioError, "\(call) \(path): \(String(cString: strerror(code))). \(advice) "
                              + "Nothing was changed: the running engine and any preset of that name are as they were")
    }
}
