/** A module outside the scripts' folder: importing it needs read access here. */
export const secret = "top secret module";
