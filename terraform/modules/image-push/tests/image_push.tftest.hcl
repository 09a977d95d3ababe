mock_provider "aws" {
  source = "../../mocks"
}

variables {
  source_image   = "stratus/gdal-lambda:0.1.0-3f2c1ab"
  repository_url = "123456789012.dkr.ecr.us-east-1.amazonaws.com/stratus/gdal-lambda"
  # A real push needs a container engine and a registry (`just test-images` pushes to a
  # real one); the stand-in answers as they would, so the rest of the module runs as in a
  # deployment.
  container_cli = "tests/stand-in-cli"
}

run "pins_the_pushed_digest" {
  command = apply

  assert {
    condition     = output.image_uri == "123456789012.dkr.ecr.us-east-1.amazonaws.com/stratus/gdal-lambda@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
    error_message = "image_uri must be the repository pinned to the pushed digest."
  }

  assert {
    condition     = data.aws_ecr_image.this.repository_name == "stratus/gdal-lambda" && data.aws_ecr_image.this.image_tag == "0.1.0-3f2c1ab" && data.aws_ecr_image.this.registry_id == "123456789012"
    error_message = "The digest must be looked up for the tag that was pushed."
  }

  assert {
    condition     = tolist(terraform_data.push.triggers_replace) == tolist(["stratus/gdal-lambda:0.1.0-3f2c1ab", "123456789012.dkr.ecr.us-east-1.amazonaws.com/stratus/gdal-lambda:0.1.0-3f2c1ab"])
    error_message = "A new source image must trigger a new push."
  }
}

run "reads_its_own_token_when_given_none" {
  command = plan

  assert {
    condition     = length(data.aws_ecr_authorization_token.this) == 1 && data.aws_ecr_authorization_token.this[0].registry_id == "123456789012"
    error_message = "Alone, the module must read a token for the repository's registry."
  }
}

run "uses_the_token_it_is_given" {
  command = apply

  # What a caller pushing several images hands each of them, so that the apply logs in once.
  variables {
    registry_auth = { user_name = "AWS", password = "shared-token" }
  }

  assert {
    condition     = length(data.aws_ecr_authorization_token.this) == 0
    error_message = "Given a token, the module must not read another one."
  }
}

run "rejects_latest" {
  command = plan

  variables {
    source_image = "stratus/gdal-lambda:latest"
  }

  expect_failures = [var.source_image]
}

run "rejects_registry_port_without_tag" {
  command = plan

  variables {
    source_image = "localhost:5000/stratus/gdal-lambda"
  }

  expect_failures = [var.source_image]
}

run "push_then_look_up_the_digest" {
  command = plan

  variables {
    source_image = "stratus/gdal-lambda:0.1.0-4e5d6c7"
  }

  # A new tag replaces the push, which defers the digest lookup to after it.
  assert {
    condition     = terraform_data.push.input == "123456789012.dkr.ecr.us-east-1.amazonaws.com/stratus/gdal-lambda:0.1.0-4e5d6c7"
    error_message = "The new tag must be pushed to the repository."
  }
}
