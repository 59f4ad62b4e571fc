/** "123456789" -> "123 456 789": a PIN grouped in threes, easier to read aloud. */
export function groupPin(pin: string): string {
  return pin.replace(/\D/g, "").replace(/(\d{3})(?=\d)/g, "$1 ");
}
