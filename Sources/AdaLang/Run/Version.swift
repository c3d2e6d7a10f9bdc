import Foundation

public enum AdaVersion {
    public static let string = "0.1.0"
}
