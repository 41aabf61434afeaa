/** Bytes in a mebibyte: presets size memory in MiB, while servers and Terraform attributes take bytes. */
export const MIB = 1024 * 1024;
