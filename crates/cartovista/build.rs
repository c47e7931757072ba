fn main() {
    apikeys_codegen::build_script("cartovista");
}
