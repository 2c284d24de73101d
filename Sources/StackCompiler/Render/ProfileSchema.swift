import StackModel

/// The JSON Schema of the profile format (`stackc schema`), so editors can validate profiles.
///
/// It describes the shape (sections of options, the `stack` section, instance entries, software
/// types, recipes); references, layering and the graph are checked by `stackc check`.
public enum ProfileSchema {
    /// The recipe names, from the catalog, as JSON strings.
    private static let recipeNames = RecipeCatalog.recipes.map { JSONText.quoted($0.name) }.joined(separator: ", ")

    public static let json = #"""
{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$id": "https://stackc.dev/schema/profile.json",
  "title": "stackc profile",
  "description": "A stackc profile: a map of section names to sections of options. See README.md, 'The profile language'.",
  "type": "object",
  "properties": {
    "stack": { "$ref": "#/$defs/stackSection" },
    "include": { "$ref": "#/$defs/paths" }
  },
  "additionalProperties": { "$ref": "#/$defs/section" },
  "$defs": {
    "paths": {
      "description": "A path or a list of paths, relative to the file that names them.",
      "oneOf": [
        { "type": "string", "minLength": 1 },
        { "type": "array", "items": { "type": "string", "minLength": 1 } }
      ]
    },
    "value": {
      "description": "An option value. Strings may hold ${section:option} references; $${...} is left for the next stage.",
      "type": ["string", "number", "boolean", "null", "array", "object"]
    },
    "section": {
      "description": "Options of a section. A key may end in '+=' (append) or '-=' (remove); '<=' names macro base sections.",
      "oneOf": [
        { "type": "null" },
        {
          "type": "object",
          "properties": {
            "<=": {
              "description": "Copy the options of these sections first (later wins), then this section's own.",
              "oneOf": [ { "type": "string" }, { "type": "array", "items": { "type": "string" } } ]
            },
            "include": { "$ref": "#/$defs/paths" },
            "recipe": { "enum": [\#(recipeNames)] }
          },
          "propertyNames": { "pattern": "^(<=|[^\\s][^=]*?\\s*(\\+=|-=)?)$" },
          "additionalProperties": { "$ref": "#/$defs/value" }
        }
      ]
    },
    "stackSection": {
      "type": "object",
      "properties": {
        "extends": { "$ref": "#/$defs/paths" },
        "include": { "$ref": "#/$defs/paths" },
        "name": { "type": "string" },
        "description": { "type": "string" },
        "parts": { "type": "array", "items": { "type": "string" } },
        "parts +=": { "type": "array", "items": { "type": "string" } },
        "parts -=": { "type": "array", "items": { "type": "string" } },
        "instances": { "type": "array", "items": { "$ref": "#/$defs/instanceEntry" } },
        "instances +=": { "type": "array", "items": { "$ref": "#/$defs/instanceEntry" } },
        "software-types": {
          "type": "object",
          "additionalProperties": { "$ref": "#/$defs/softwareType" }
        }
      },
      "additionalProperties": { "$ref": "#/$defs/value" }
    },
    "softwareType": {
      "type": "object",
      "required": ["profile", "role"],
      "properties": {
        "profile": { "type": "string", "minLength": 1 },
        "role": { "enum": ["export", "import", "pull-backup", "plain"] },
        "description": { "type": "string" },
        "parameters": {
          "type": "object",
          "additionalProperties": {
            "oneOf": [
              { "$ref": "#/$defs/parameterKind" },
              {
                "type": "object",
                "required": ["type"],
                "properties": {
                  "type": { "$ref": "#/$defs/parameterKind" },
                  "required": { "type": "boolean" },
                  "default": { "$ref": "#/$defs/value" }
                },
                "additionalProperties": false
              }
            ]
          }
        }
      },
      "additionalProperties": false
    },
    "parameterKind": { "enum": ["string", "integer", "number", "boolean", "list", "map"] },
    "instanceEntry": {
      "oneOf": [
        {
          "description": "replicate(namebase, count, export-type, import-type[, leader-section[, backup-section]])",
          "type": "string",
          "pattern": "^\\s*replicate\\s*\\(.*\\)\\s*$"
        },
        {
          "type": "object",
          "required": ["replicate"],
          "properties": {
            "replicate": {
              "type": "object",
              "required": ["name", "count", "export", "import"],
              "properties": {
                "name": { "type": "string" },
                "count": { "type": "integer", "minimum": 1 },
                "export": { "type": "string" },
                "import": { "type": "string" },
                "leader": { "type": "string" },
                "backup": { "type": "string" },
                "pull-backup": { "type": "string" }
              },
              "additionalProperties": false
            }
          },
          "additionalProperties": false
        },
        {
          "type": "object",
          "required": ["name", "software-type"],
          "properties": {
            "name": { "type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$" },
            "software-type": { "type": "string" },
            "parameters": { "type": "object" },
            "pull-from": { "type": "string" },
            "push-to": { "type": "string" }
          },
          "additionalProperties": false
        }
      ]
    }
  }
}
"""#
}
