fn main() {
    apikeys_build::run("finicity");
}
