import Foundation
import VigilCore
import VigilStore

/// Turns an uploaded model file into a scoring model, by format; every refusal says what and where.
public enum ModelCodec {
    /// A decoded model and what the importer found out about it (a JSON object for the version's page).
    public struct Decoded: Sendable {
        public var model: any ScoringModel
        public var details: String
    }

    public static func decode(
        _ file: [UInt8], format: ModelFormat, name: String, version: String
    ) throws(ServiceError) -> Decoded {
        do {
            switch format {
            case .vigilLogistic:
                let document = try ModelLoader.logisticDocument(json: Data(file), source: "the model file")
                var renamed = document
                renamed.name = name
                renamed.version = version
                let model = try LogisticModel(document: renamed)
                var writer = JSONWriter()
                writer.objectStart()
                writer.key("kind")
                writer.string("logistic regression")
                writer.key("original_name")
                writer.string(document.name)
                writer.key("original_version")
                writer.string(document.version)
                writer.key("features")
                writer.int(model.featureNames.count)
                writer.objectEnd()
                return Decoded(model: model, details: String(decoding: writer.bytes, as: UTF8.self))
            case .xgboostJSON:
                let model = try TreeEnsembleImport.xgboost(json: file, name: name, version: version)
                return Decoded(model: model, details: details(of: model))
            case .lightgbmText:
                let model = try TreeEnsembleImport.lightgbm(text: file, name: name, version: version)
                return Decoded(model: model, details: details(of: model))
            }
        } catch let error as ServiceError {
            throw error
        } catch let error as ModelError {
            throw .invalidModel(error.description)
        } catch let error as ModelLoadError {
            throw .invalidModel(error.message)
        } catch {
            throw .invalidModel("\(error)")
        }
    }

    /// Guesses the format of a model file named in config, from its first bytes.
    public static func sniff(_ file: [UInt8]) -> ModelFormat {
        let head = String(decoding: file.prefix(4096), as: UTF8.self)
        if head.contains("vigil-logistic/") { return .vigilLogistic }
        if head.hasPrefix("tree\n") || head.contains("\nversion=v") { return .lightgbmText }
        return .xgboostJSON
    }

    private static func details(of model: TreeEnsembleModel) -> String {
        var writer = JSONWriter()
        writer.objectStart()
        writer.key("kind")
        writer.string("tree ensemble")
        writer.key("library")
        writer.string(model.metadata.library)
        writer.key("library_version")
        writer.string(model.metadata.libraryVersion)
        writer.key("objective")
        writer.string(model.metadata.objective)
        writer.key("trees")
        writer.int(model.metadata.treeCount)
        writer.key("max_depth")
        writer.int(model.metadata.maxDepth)
        writer.key("nodes")
        writer.int(model.metadata.nodeCount)
        writer.key("features")
        writer.int(model.featureNames.count)
        writer.key("base_margin")
        writer.number(model.metadata.baseMargin)
        writer.objectEnd()
        return String(decoding: writer.bytes, as: UTF8.self)
    }
}
