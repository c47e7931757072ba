fn main() {
    apikeys_build::run("finbourne-identity");
}
