// A config whose field is a getter that throws.
export default {
  domains: [{
    name: "web",
    get memory(): string {
      throw new Error("memory is not known yet");
    },
  }],
};
