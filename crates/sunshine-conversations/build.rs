fn main() {
    apikeys_build::run("sunshine-conversations");
}
