import Testing
@testable import ConfabCodec
