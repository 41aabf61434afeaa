/** Configures the Terraform backend an environment file names (local state by default). */
import { LocalBackend, RemoteBackend, S3Backend, type TerraformStack } from "cdktf";
import type { Backend } from "./config/schema.js";

export function configureBackend(stack: TerraformStack, backend: Backend, envName: string): void {
  switch (backend.type) {
    case "local":
      new LocalBackend(stack, { path: backend.path ?? `terraform.${envName}.tfstate` });
      return;
    case "s3":
      new S3Backend(stack, {
        bucket: backend.bucket,
        key: backend.key,
        region: backend.region,
        encrypt: backend.encrypt,
        ...(backend.dynamodbTable ? { dynamodbTable: backend.dynamodbTable } : {}),
      });
      return;
    case "remote":
      new RemoteBackend(stack, { hostname: backend.hostname, organization: backend.organization, workspaces: { name: backend.workspace } });
      return;
  }
}
