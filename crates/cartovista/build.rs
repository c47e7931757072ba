fn main() {
    apikeys_build::run("cartovista");
}
