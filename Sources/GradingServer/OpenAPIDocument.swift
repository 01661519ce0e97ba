/// The OpenAPI 3.1 document served at `GET /openapi.json`. Kept in source, not as a bundle
/// resource, so the `assay` binary can be copied anywhere (a missing resource bundle would
/// crash `Bundle.module` at the first request).
enum OpenAPIDocument {
    static let json = #"""
{
 "openapi": "3.1.0",
 "info": {
  "title": "assay grading server",
  "version": "1.0.0",
  "description": "Sandboxed code execution and rewards for RL on code. SandboxFusion-compatible /run_code, native batch grading, durable async jobs, OpenRLHF remote reward. Every endpoint but /healthz requires 'Authorization: Bearer <token>' when the server runs with --token-file. Errors are {\"error\": {\"message\": ...}}."
 },
 "servers": [
  {
   "url": "http://127.0.0.1:8080"
  }
 ],
 "components": {
  "securitySchemes": {
   "bearer": {
    "type": "http",
    "scheme": "bearer"
   }
  },
  "schemas": {
   "Error": {
    "type": "object",
    "required": [
     "error"
    ],
    "properties": {
     "error": {
      "type": "object",
      "properties": {
       "message": {
        "type": "string"
       }
      }
     }
    }
   },
   "RunCodeRequest": {
    "type": "object",
    "required": [
     "code",
     "language"
    ],
    "properties": {
     "code": {
      "type": "string"
     },
     "language": {
      "type": "string",
      "enum": [
       "python",
       "python3",
       "cpp"
      ]
     },
     "stdin": {
      "type": [
       "string",
       "null"
      ]
     },
     "compile_timeout": {
      "type": "number",
      "default": 10,
      "minimum": 0.01,
      "maximum": 300,
      "description": "wall and CPU seconds of the compiler; a compiler stopped by it is a TimeLimitExceeded compile_result"
     },
     "run_timeout": {
      "type": "number",
      "default": 10,
      "minimum": 0.01,
      "maximum": 300,
      "description": "wall and CPU seconds"
     },
     "memory_limit_MB": {
      "type": "number",
      "anyOf": [
       {
        "const": -1
       },
       {
        "minimum": 16,
        "maximum": 65536
       }
      ],
      "default": -1,
      "description": "MiB of the whole box, 16 to 65536 (a fraction is dropped); -1: the server default (1024)"
     },
     "files": {
      "type": "object",
      "maxProperties": 64,
      "propertyNames": {
       "pattern": "^(?!\\.\\.?$)[^/\\u0000]+$"
      },
      "additionalProperties": {
       "type": [
        "string",
        "null"
       ],
       "pattern": "^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"
      },
      "description": "{name: base64 or null}: written into the program's work dir (its current directory) before it runs; plain file names only; 16 MiB in all once decoded; null entries are skipped"
     },
     "fetch_files": {
      "type": "array",
      "maxItems": 64,
      "items": {
       "type": "string",
       "pattern": "^(?!\\.\\.?$)[^/\\u0000]+$"
      },
      "description": "plain file names read back from the work dir after the run (whatever its outcome) into the response's files; a name missing, a symlink, not a regular file or past 16 MiB in all is left out"
     }
    }
   },
   "CommandRunResult": {
    "type": [
     "object",
     "null"
    ],
    "properties": {
     "status": {
      "type": "string",
      "enum": [
       "Finished",
       "TimeLimitExceeded",
       "Error"
      ]
     },
     "execution_time": {
      "type": "number",
      "description": "wall seconds"
     },
     "return_code": {
      "type": [
       "integer",
       "null"
      ],
      "description": "null on a time limit; -N when killed by signal N"
     },
     "stdout": {
      "type": "string"
     },
     "stderr": {
      "type": "string"
     }
    }
   },
   "RunCodeResponse": {
    "type": "object",
    "properties": {
     "status": {
      "type": "string",
      "enum": [
       "Success",
       "Failed",
       "SandboxError"
      ],
      "description": "Failed: a time limit or nonzero exit (of the compiler or the program). SandboxError: the sandbox itself failed (transient; clients retry)."
     },
     "message": {
      "type": "string"
     },
     "compile_result": {
      "$ref": "#/components/schemas/CommandRunResult"
     },
     "run_result": {
      "$ref": "#/components/schemas/CommandRunResult"
     },
     "executor_pod_name": {
      "type": "null"
     },
     "files": {
      "type": "object",
      "additionalProperties": {
       "type": "string"
      },
      "description": "fetch_files that were there after the run, base64"
     }
    }
   },
   "GradeItem": {
    "type": "object",
    "description": "One of problem (inline) or problem_id (from --data); one of response (the last closed fenced code block is graded) or code (+ language).",
    "allOf": [
     {
      "anyOf": [
       {
        "required": [
         "problem"
        ],
        "properties": {
         "problem": {
          "type": "object"
         }
        }
       },
       {
        "required": [
         "problem_id"
        ],
        "properties": {
         "problem_id": {
          "type": [
           "string",
           "integer"
          ]
         }
        }
       }
      ]
     },
     {
      "anyOf": [
       {
        "required": [
         "response"
        ],
        "properties": {
         "response": {
          "type": "string"
         }
        }
       },
       {
        "required": [
         "code"
        ],
        "properties": {
         "code": {
          "type": "string"
         }
        }
       }
      ]
     }
    ],
    "properties": {
     "id": {
      "type": [
       "string",
       "integer"
      ],
      "description": "echoed back"
     },
     "problem": {
      "type": "object",
      "required": [
       "tests"
      ],
      "properties": {
       "tests": {
        "type": "array",
        "minItems": 1,
        "items": {
         "type": "object",
         "anyOf": [
          {
           "required": [
            "stdin",
            "stdout"
           ],
           "properties": {
            "stdin": {
             "type": "string"
            },
            "stdout": {
             "type": "string"
            }
           }
          },
          {
           "required": [
            "script"
           ],
           "properties": {
            "script": {
             "type": "string"
            }
           }
          }
         ]
        }
       }
      },
      "description": "inline problem in assay's native format ({id?, tests: [{stdin, stdout} | {args, expected, call?} | {script}], entry_point?, checker?, time_limit?, memory_limit?}) or any format assay's adapters detect"
     },
     "format": {
      "type": "string",
      "description": "force the adapter for an inline problem (the enum is filled from the server's adapters when served)"
     },
     "problem_id": {
      "type": [
       "string",
       "integer"
      ]
     },
     "response": {
      "type": "string"
     },
     "code": {
      "type": "string"
     },
     "language": {
      "type": "string",
      "enum": [
       "python",
       "cpp"
      ],
      "default": "python"
     }
    }
   },
   "GradeOptions": {
    "type": "object",
    "properties": {
     "max_tests": {
      "type": "integer",
      "description": "tests per problem, longest inputs first (default 15; 0: all)"
     },
     "checker": {
      "type": "string",
      "pattern": "^([lL][cC][bB]|[dD][eE][fF][aA][uU][lL][tT]|[lL][iI][vV][eE][cC][oO][dD][eE][bB][eE][nN][cC][hH]|[tT][aA][cC][oO]-[lL][eE][nN][iI][eE][nN][tT]|[tT][aA][cC][oO]|[eE][xX][aA][cC][tT]|[tT][oO][lL][eE][rR][aA][nN][cC][eE](:[+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?)?)$",
      "description": "lcb (default), tolerance, tolerance:EPS (EPS a number >= 0), taco-lenient, exact; any case"
     },
     "time_limit": {
      "type": "number",
      "minimum": 0.01,
      "maximum": 60,
      "description": "CPU seconds per test"
     },
     "memory_mb": {
      "type": "integer",
      "minimum": 16,
      "maximum": 65536,
      "default": 1024
     },
     "invalid_items": {
      "type": "string",
      "enum": [
       "reject",
       "error"
      ],
      "default": "reject",
      "description": "reject: an item that cannot be read (unknown problem id, malformed problem) fails the request with a 4xx; error: that item's result has reward null and an error, and the rest are graded"
     },
     "stop_at_first_failure": {
      "type": "boolean",
      "default": true
     }
    }
   },
   "GradeRequest": {
    "type": "object",
    "required": [
     "items"
    ],
    "properties": {
     "items": {
      "type": "array",
      "minItems": 1,
      "items": {
       "$ref": "#/components/schemas/GradeItem"
      }
     },
     "options": {
      "$ref": "#/components/schemas/GradeOptions"
     }
    }
   },
   "TestReport": {
    "type": "object",
    "properties": {
     "index": {
      "type": "integer"
     },
     "name": {
      "type": "string"
     },
     "verdict": {
      "type": "string",
      "enum": [
       "OK",
       "WA",
       "TLE",
       "MLE",
       "OLE",
       "RE",
       "SYS",
       "CE"
      ]
     },
     "cpu_ms": {
      "type": "number"
     },
     "wall_ms": {
      "type": "number"
     },
     "memory_kb": {
      "type": "integer"
     },
     "detail": {
      "type": "string"
     }
    }
   },
   "GradeResult": {
    "type": "object",
    "properties": {
     "index": {
      "type": "integer"
     },
     "id": {
      "type": [
       "string",
       "integer"
      ]
     },
     "problem_id": {
      "type": "string"
     },
     "reward": {
      "type": [
       "integer",
       "null"
      ],
      "description": "1 iff every selected test passed; null when the item could not be graded (see error)"
     },
     "reason": {
      "type": "string"
     },
     "detail": {
      "type": "string"
     },
     "language": {
      "type": "string"
     },
     "tests_selected": {
      "type": "integer"
     },
     "tests_passed": {
      "type": "integer"
     },
     "tests": {
      "type": "array",
      "items": {
       "$ref": "#/components/schemas/TestReport"
      }
     },
     "error": {
      "type": [
       "string",
       "null"
      ]
     },
     "elapsed_ms": {
      "type": "number"
     }
    }
   },
   "GradeResponse": {
    "type": "object",
    "properties": {
     "results": {
      "type": "array",
      "items": {
       "$ref": "#/components/schemas/GradeResult"
      }
     },
     "summary": {
      "type": "object",
      "properties": {
       "items": {
        "type": "integer"
       },
       "passed": {
        "type": "integer"
       },
       "errors": {
        "type": "integer"
       },
       "elapsed_ms": {
        "type": "number"
       }
      }
     }
    }
   },
   "Job": {
    "type": "object",
    "properties": {
     "id": {
      "type": "string"
     },
     "status": {
      "type": "string",
      "enum": [
       "queued",
       "running",
       "done"
      ]
     },
     "total": {
      "type": "integer"
     },
     "completed": {
      "type": "integer"
     },
     "progress": {
      "type": "number"
     },
     "created_at": {
      "type": "number"
     },
     "finished_at": {
      "type": [
       "number",
       "null"
      ]
     },
     "results": {
      "type": "array",
      "items": {
       "$ref": "#/components/schemas/GradeResult"
      },
      "description": "results stored so far, by item index"
     }
    }
   },
   "OpenRLHFRequest": {
    "type": "object",
    "required": [
     "query"
    ],
    "properties": {
     "query": {
      "type": "array",
      "items": {
       "type": "string"
      }
     },
     "prompts": {
      "type": "array",
      "items": {
       "type": "string"
      }
     },
     "labels": {
      "type": "array",
      "items": {
       "type": "string"
      },
      "description": "a problem id from --data, an inline problem as JSON text, or {\"inputs\": [...], \"outputs\": [...], \"fn_name\"?} ground truth"
     }
    }
   },
   "OpenRLHFResponse": {
    "type": "object",
    "properties": {
     "rewards": {
      "type": "array",
      "items": {
       "type": "number"
      }
     },
     "scores": {
      "type": "array",
      "items": {
       "type": "number"
      }
     },
     "extra_logs": {
      "type": "object",
      "additionalProperties": {
       "type": "array",
       "items": {
        "type": "number"
       }
      }
     }
    }
   }
  }
 },
 "security": [
  {
   "bearer": []
  }
 ],
 "paths": {
  "/healthz": {
   "get": {
    "summary": "Liveness (no token needed)",
    "security": [],
    "responses": {
     "200": {
      "description": "ok",
      "content": {
       "application/json": {
        "schema": {
         "type": "object"
        }
       }
      }
     }
    }
   }
  },
  "/metrics": {
   "get": {
    "summary": "Prometheus metrics (text format 0.0.4)",
    "responses": {
     "200": {
      "description": "metrics",
      "content": {
       "text/plain": {
        "schema": {
         "type": "string"
        }
       }
      }
     }
    }
   }
  },
  "/openapi.json": {
   "get": {
    "summary": "This document",
    "responses": {
     "200": {
      "description": "OpenAPI 3.1",
      "content": {
       "application/json": {
        "schema": {
         "type": "object"
        }
       }
      }
     }
    }
   }
  },
  "/v1/ping": {
   "get": {
    "summary": "SandboxFusion ping",
    "responses": {
     "200": {
      "description": "\"pong\"",
      "content": {
       "application/json": {
        "schema": {
         "type": "string",
         "const": "pong"
        }
       }
      }
     }
    }
   }
  },
  "/run_code": {
   "post": {
    "summary": "SandboxFusion-compatible single run",
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/RunCodeRequest"
       }
      }
     }
    },
    "responses": {
     "200": {
      "description": "run outcome",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/RunCodeResponse"
        }
       }
      }
     },
     "400": {
      "description": "Malformed JSON, invalid UTF-8, a wrong type, a missing field, an unknown language or an empty batch.",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "401": {
      "description": "Missing or wrong bearer token (only when the server runs with --token-file).",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "413": {
      "description": "The body is larger than the limit (--max-body-mb).",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "429": {
      "description": "Queue full; see Retry-After.",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "504": {
      "description": "Queued past its deadline without starting (verl retries 504).",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     }
    }
   }
  },
  "/v1/grade": {
   "post": {
    "summary": "Grade a batch synchronously",
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/GradeRequest"
       }
      }
     }
    },
    "responses": {
     "200": {
      "description": "per-item results, in request order",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/GradeResponse"
        }
       }
      }
     },
     "400": {
      "description": "Malformed JSON, invalid UTF-8, a wrong type, a missing field, an unknown language or an empty batch.",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "401": {
      "description": "Missing or wrong bearer token (only when the server runs with --token-file).",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "413": {
      "description": "The body is larger than the limit (--max-body-mb).",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "404": {
      "description": "Unknown problem_id.",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "429": {
      "description": "Queue full; see Retry-After.",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     }
    }
   }
  },
  "/v1/jobs": {
   "post": {
    "summary": "Submit a durable async grading job",
    "parameters": [
     {
      "name": "Idempotency-Key",
      "in": "header",
      "schema": {
       "type": "string",
       "minLength": 1,
       "maxLength": 255
      },
      "description": "a retried submission with the same key returns the same job"
     }
    ],
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/GradeRequest"
       }
      }
     }
    },
    "responses": {
     "202": {
      "description": "created",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Job"
        }
       }
      }
     },
     "200": {
      "description": "the job already stored under this Idempotency-Key",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Job"
        }
       }
      }
     },
     "400": {
      "description": "Malformed JSON, invalid UTF-8, a wrong type, a missing field, an unknown language or an empty batch.",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "401": {
      "description": "Missing or wrong bearer token (only when the server runs with --token-file).",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "413": {
      "description": "The body is larger than the limit (--max-body-mb).",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "404": {
      "description": "Unknown problem_id.",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "422": {
      "description": "Idempotency-Key reused with a different body.",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     }
    }
   }
  },
  "/v1/jobs/{id}": {
   "get": {
    "summary": "Job progress and results",
    "parameters": [
     {
      "name": "id",
      "in": "path",
      "required": true,
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "results",
      "in": "query",
      "schema": {
       "type": "string",
       "enum": [
        "true",
        "false"
       ]
      },
      "description": "false: progress only"
     }
    ],
    "responses": {
     "200": {
      "description": "the job",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Job"
        }
       }
      }
     },
     "400": {
      "description": "results is neither true nor false.",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "404": {
      "description": "No such job.",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     }
    }
   }
  },
  "/get_reward": {
   "post": {
    "summary": "OpenRLHF remote reward (--reward.remote_url)",
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/OpenRLHFRequest"
       }
      }
     }
    },
    "responses": {
     "200": {
      "description": "rewards",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/OpenRLHFResponse"
        }
       }
      }
     },
     "400": {
      "description": "Malformed JSON, invalid UTF-8, a wrong type, a missing field, an unknown language or an empty batch.",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "401": {
      "description": "Missing or wrong bearer token (only when the server runs with --token-file).",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "413": {
      "description": "The body is larger than the limit (--max-body-mb).",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "404": {
      "description": "A label names no known problem.",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     }
    }
   }
  }
 }
}
"""#
}
