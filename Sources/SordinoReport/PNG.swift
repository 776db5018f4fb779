// SPDX-License-Identifier: GPL-3.0-or-later
// PNG encoding and decoding of 8-bit RGB images through libpng's simplified API (no setjmp).

internal import CPNG

/// Why an image could not be encoded or decoded; `message` is libpng's.
public enum PNGError: Error, CustomStringConvertible, Equatable {
    case encodingFailed(message: String)
    case decodingFailed(path: String, message: String)

    public var description: String {
        switch self {
        case let .encodingFailed(message):
            "PNG encoding failed (\(message)). This is a bug: please report it with the command line."
        case let .decodingFailed(path, message):
            "\(path): not a readable PNG (\(message)). Check the file, or produce it again."
        }
    }
}

/// An 8-bit RGB raster, row-major from the top row, 3 bytes per pixel.
public struct RGBImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width > 0 && height > 0 && pixels.count == width * height * 3, "RGB image size mismatch")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// The PNG file bytes (libpng's `png_image_write_to_memory`, default compression).
    public func pngData() throws(PNGError) -> [UInt8] {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        image.width = UInt32(width)
        image.height = UInt32(height)
        image.format = UInt32(PNG_FORMAT_RGB)
        var size = 0
        let stride = Int32(width * 3)
        let sized = pixels.withUnsafeBytes { raw in
            png_image_write_to_memory(&image, nil, &size, 0, raw.baseAddress, stride, nil)
        }
        guard sized != 0, size > 0 else { throw .encodingFailed(message: Self.message(of: image)) }
        var out = [UInt8](repeating: 0, count: size)
        let written = out.withUnsafeMutableBytes { target in
            pixels.withUnsafeBytes { raw in
                png_image_write_to_memory(&image, target.baseAddress, &size, 0, raw.baseAddress, stride, nil)
            }
        }
        guard written != 0 else { throw .encodingFailed(message: Self.message(of: image)) }
        return Array(out.prefix(size))
    }

    /// Reads a PNG file of any colour type as 8-bit RGB.
    public static func read(path: String) throws(PNGError) -> RGBImage {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        guard png_image_begin_read_from_file(&image, path) != 0 else {
            throw .decodingFailed(path: path, message: message(of: image))
        }
        image.format = UInt32(PNG_FORMAT_RGB)
        let width = Int(image.width), height = Int(image.height)
        guard width > 0, height > 0 else { png_image_free(&image); throw .decodingFailed(path: path, message: "empty image") }
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        let ok = pixels.withUnsafeMutableBytes { png_image_finish_read(&image, nil, $0.baseAddress, Int32(width * 3), nil) }
        guard ok != 0 else { throw .decodingFailed(path: path, message: message(of: image)) }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    private static func message(of image: png_image) -> String {
        var copy = image.message
        return withUnsafeBytes(of: &copy) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}
